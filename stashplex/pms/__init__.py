"""The Plex Media Server side: its HTTP client, the poster uploader and the refresher."""

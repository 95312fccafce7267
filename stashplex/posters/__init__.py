"""Poster rendering: turning Stash scene covers into the 2:3 artwork a Plex Movies library wants."""

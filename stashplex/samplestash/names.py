"""Word lists and the table of deliberately hard file names.

Everything here is plain data; ``generate.py`` combines it deterministically. Words used
as search targets by the trap table (``ostrich``, ``pelican``, ``marmalade``) never occur
in the generated names, so a filter on them finds exactly the trap scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ADJECTIVES = (
    "Golden",
    "Silent",
    "Velvet",
    "Crimson",
    "Electric",
    "Hidden",
    "Lazy",
    "Midnight",
    "Neon",
    "Quiet",
    "Rapid",
    "Secret",
    "Sunny",
    "Wild",
    "Blue",
    "Frozen",
    "Gentle",
    "Lucky",
    "Urban",
    "Vintage",
    "Warm",
    "Bright",
    "Broken",
    "Early",
    "Final",
    "Grand",
    "Little",
    "Lost",
    "Open",
    "Perfect",
    "Royal",
    "Second",
    "Sweet",
    "True",
    "Young",
    "Éternel",
    "Süß",
    "Naïve",
    "Crème",
    "Fiery",
)
NOUNS = (
    "Afternoon",
    "Balcony",
    "Canyon",
    "Dream",
    "Echo",
    "Festival",
    "Garden",
    "Harbor",
    "Island",
    "Journey",
    "Kitchen",
    "Lagoon",
    "Meadow",
    "Night",
    "Orchard",
    "Pool",
    "Rooftop",
    "Sunset",
    "Terrace",
    "Valley",
    "Window",
    "Weekend",
    "Studio",
    "Road Trip",
    "Holiday",
    "Interview",
    "Rehearsal",
    "Session",
    "Encounter",
    "Lesson",
    "Party",
    "Visit",
    "Workout",
    "Morning",
    "Voyage",
    "Café",
    "Château",
    "Fiesta",
    "Sommer",
    "Rêve",
)
FIRST_NAMES = (
    "Anna",
    "Bella",
    "Chloé",
    "Daisy",
    "Emma",
    "Freya",
    "Gina",
    "Hanna",
    "Iris",
    "Jade",
    "Kira",
    "Lena",
    "Mia",
    "Nina",
    "Olga",
    "Paula",
    "Quinn",
    "Rosa",
    "Sofia",
    "Tara",
    "Uma",
    "Vera",
    "Wanda",
    "Xenia",
    "Yara",
    "Zoë",
    "Anaïs",
    "Noémie",
    "Renée",
    "Łucja",
    "Søren",
    "José",
    "Björn",
    "Marco",
    "Luca",
    "Jonas",
    "Felix",
    "Adam",
    "Leo",
    "Max",
    "Ngọc",
    "Ines",
    "Maëlle",
    "Sinéad",
    "Małgorzata",
    "Dagný",
    "Ayşe",
    "Joël",
    "Tomás",
    "Ivan",
)
LAST_NAMES = (
    "Adams",
    "Berg",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "García",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Klein",
    "Larsen",
    "Müller",
    "Novak",
    "Olsen",
    "Petit",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Torres",
    "Ueda",
    "Vargas",
    "Weber",
    "Xu",
    "Young",
    "Zimmermann",
    "Łukasik",
    "Ó Briain",
    "D'Angelo",
    "Núñez",
    "Åberg",
    "Çelik",
    "Øster",
    "Lefèvre",
    "Kovač",
    "Brandt",
    "Moreau",
    "Silva",
    "Walsh",
    "Keller",
)
CJK_NAMES = (
    "山田 花子",
    "佐藤 美咲",
    "김 민지",
    "王 芳",
    "高橋 結衣",
    "李 娜",
    "鈴木 さくら",
    "陳 靜",
)
DISAMBIGUATIONS = ("II", "2010s", "UK", "brunette", "FR", "model", "DE", "classic")
STUDIO_WORDS = (
    "Aurora",
    "Bluebird",
    "Cascade",
    "Dynamo",
    "Ember",
    "Falcon",
    "Granite",
    "Horizon",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lantern",
    "Monarch",
    "Nimbus",
    "Onyx",
    "Paragon",
    "Quarry",
    "Radiant",
    "Summit",
    "Tidal",
    "Umbra",
    "Vertex",
    "Willow",
    "Zenith",
)
STUDIO_SUFFIXES = ("Studios", "Pictures", "Films", "Media", "Productions", "Works", "Digital")
SPECIAL_STUDIOS = ("Studio Ünïcøde", "Bright & Bold", "O'Reilly Pictures", "Ñandú Films")
TAG_NAMES = (
    "Outdoor",
    "Indoor",
    "Interview",
    "Behind the Scenes",
    "Compilation",
    "Music",
    "Beach",
    "City",
    "Night",
    "Vintage",
    "Amateur",
    "Professional",
    "Solo",
    "Duo",
    "Group",
    "Costume",
    "Dance",
    "Comedy",
    "Drama",
    "Travel",
    "Kitchen",
    "Garden",
    "Pool",
    "Studio Set",
    "Black and White",
    "Slow Motion",
    "Café",
    "Noël",
    "Über",
    "日本語",
    "4K",
    "VR",
    "Sunset",
    "Rain",
    "Snow",
    "Forest",
    "Mountain",
    "Lake",
    "Rooftop",
    "Car",
)
RESOLUTIONS = ((3840, 2160), (1920, 1080), (1920, 1080), (1280, 720), (854, 480))
VIDEO_CODECS = ("h264", "h264", "hevc", "vp9", "av1")
AUDIO_CODECS = ("aac", "aac", "opus", "mp3")
FRAME_RATES = (23.976, 25.0, 29.97, 30.0, 59.94, 60.0)
EXTENSIONS = ("mp4", "mp4", "mp4", "mkv", "mkv", "m4v", "wmv", "avi", "MP4", "mov")

# Characters Windows forbids in file names, and what the Windows library uses instead.
WINDOWS_FORBIDDEN = {'"': "''", ":": " -", "\\": "-", "?": "", "*": "", "<": "(", ">": ")"}


@dataclass(frozen=True, slots=True)
class TrapFile:
    folder: tuple[str, ...]  # components below the library root
    basename: str


@dataclass(frozen=True, slots=True)
class TrapScene:
    id: int
    trap: str  # short label, used by tests and docs
    title: str
    files: tuple[TrapFile, ...]
    cover: bool = True
    date: str | None = "2021-03-14"
    organized: bool = True
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


_T = ("Sample Traps",)
_LONG = "A Very Long File Name " + " ".join(["with many words"] * 13) + " and an end.mp4"

TRAP_SCENES: tuple[TrapScene, ...] = (
    TrapScene(
        1,
        "quotes",
        "O'Brien's \"Big\" Night",
        (TrapFile(_T, "O'Brien's \"Big\" Night.mp4"),),
        notes="single and double ASCII quotes (Windows: '' for \")",
    ),
    TrapScene(
        2,
        "accents",
        "Café Élodie – Crème Brûlée",
        (TrapFile(_T, "Café Élodie – Crème Brûlée.mp4"),),
        cover=False,
        notes="NFC accents and an en dash; no cover",
    ),
    TrapScene(3, "cjk", "東京の夜 – 花子と雪", (TrapFile(_T, "東京の夜 – 花子と雪.mkv"),)),
    TrapScene(
        4, "brackets", "Scene Extended", (TrapFile(_T, "[Studio X] Scene {Extended} (2020).mp4"),)
    ),
    TrapScene(
        5,
        "dots",
        "The Scene Name",
        (TrapFile(_T, "the.scene.name.2019.1080p.x264.mp4"),),
        date="2019",
        notes="several dots; date YYYY on v0.30+",
    ),
    TrapScene(
        6,
        "upper-ext",
        "Loud Name",
        (TrapFile(_T, "LOUD NAME.MP4"),),
        cover=False,
        date="2019-07",
        notes="upper-case extension; date YYYY-MM on v0.30+; no cover",
    ),
    TrapScene(
        7,
        "spaces",
        "Spaced Out Title",
        (TrapFile(_T, "Spaced   Out  Title .mp4"),),
        notes="runs of spaces and a space before the extension",
    ),
    TrapScene(
        8,
        "like-percent-underscore",
        "",
        (TrapFile(_T, "100% Real_Deal.mp4"),),
        organized=False,
        date=None,
        notes="% and _ are LIKE wildcards; empty title",
    ),
    TrapScene(
        9,
        "like-decoy",
        "",
        (TrapFile(_T, "100 percent Real-Deal.mp4"),),
        organized=False,
        date=None,
        notes="matches EQUALS '<traps>/100% Real_Deal.mp4' as a LIKE pattern",
    ),
    TrapScene(
        10,
        "long-name",
        "A Very Long File Name",
        (TrapFile(_T, _LONG),),
        notes=f"basename of {len(_LONG)} characters",
    ),
    TrapScene(
        11,
        "same-basename-a",
        "",
        (TrapFile((*_T, "Dup A"), "duplicate name.mp4"),),
        organized=False,
        notes="same basename as scene 12 in another folder",
    ),
    TrapScene(
        12,
        "same-basename-b",
        "",
        (TrapFile((*_T, "Dup B"), "duplicate name.mp4"),),
        organized=False,
        notes="same basename as scene 11 in another folder",
    ),
    TrapScene(
        13,
        "two-files",
        "Two Files",
        (
            TrapFile(_T, "Two Files Primary.mp4"),
            TrapFile((*_T, "Extras"), "second copy marmalade.mkv"),
        ),
        notes="files[0] is primary; only the second file contains 'marmalade'",
    ),
    TrapScene(
        14,
        "regex-case",
        "CamelCase Regex Target",
        (TrapFile(_T, "CamelCase Regex Target.mp4"),),
        notes="'camelcase' must not match MATCHES_REGEX, '(?i)camelcase' must",
    ),
    TrapScene(15, "includes-word-1", "Ostrich Only", (TrapFile(_T, "ostrich only.mp4"),)),
    TrapScene(16, "includes-word-2", "Pelican Only", (TrapFile(_T, "pelican only.mp4"),)),
    TrapScene(
        17,
        "includes-phrase",
        "The Ostrich Pelican Phrase",
        (TrapFile(_T, "the ostrich pelican phrase.mp4"),),
        notes='INCLUDES "ostrich pelican" finds 15, 16, 17; with quotes only 17',
    ),
    TrapScene(
        18,
        "nfd",
        "Café Decomposed",
        (TrapFile(_T, "Cafe\u0301 Decomposed.mp4"),),
        notes="NFD: e + combining acute (U+0301), looks like scene 2's é",
    ),
    TrapScene(
        19,
        "url-chars",
        "Q&A Number One",
        (TrapFile(_T, "Q&A #1 + more=yes; 50$.mp4"),),
        cover=False,
        notes="& # + = ; $ in the name; no cover",
    ),
    TrapScene(
        20,
        "emoji",
        "Emoji Clip",
        (TrapFile(_T, "emoji 🎬 clip.mp4"),),
        notes="a character outside the BMP",
    ),
    TrapScene(
        21,
        "backslash",
        "Back Slash",
        (TrapFile(_T, "back\\slash name.mp4"),),
        notes="a literal backslash in a Linux name (Windows: back-slash)",
    ),
    TrapScene(
        22,
        "inner-ext",
        "Inner Extension",
        (TrapFile(_T, "name.with.mp4.inside.mkv"),),
        notes="an extension-looking part before the real one",
    ),
    TrapScene(
        23,
        "percent-encoded",
        "Percent Encoded",
        (TrapFile(_T, "percent%20encoded.mp4"),),
        notes="a literal %20 (URL decoding and LIKE trap)",
    ),
    TrapScene(
        24,
        "like-underscore",
        "Underscore Only",
        (TrapFile(_T, "underscore_only_name.mp4"),),
        notes="_ is a LIKE wildcard; scene 25 is its decoy",
    ),
    TrapScene(
        25, "like-underscore-decoy", "Underscore Decoy", (TrapFile(_T, "underscore-only-name.mp4"),)
    ),
    TrapScene(
        26,
        "typographic-quotes",
        "Rock ’n’ Roll",
        (TrapFile(_T, "Rock ’n’ Roll.mp4"),),
        notes="U+2019, not an ASCII apostrophe",
    ),
    TrapScene(
        27,
        "non-ascii-case",
        "Ünïcödé Upper",
        (TrapFile(_T, "Ünïcödé UPPER ÄÖÜ.mp4"),),
        notes="SQL LIKE folds ASCII case only: EQUALS with 'äöü' does not match",
    ),
    TrapScene(
        28, "punctuation", "Comma Semicolon", (TrapFile(_T, "Comma, Semicolon; and Dash -.mp4"),)
    ),
    TrapScene(
        29, "deep-folder", "Deep File", (TrapFile((*_T, "a", "b", "c", "d", "e"), "deep file.mp4"),)
    ),
    TrapScene(
        30,
        "mixed-case-dup",
        "Mixed Case",
        (TrapFile(_T, "MiXeD CaSe NaMe.mp4"),),
        notes="EQUALS with 'mixed case name.mp4' matches: LIKE folds ASCII case",
    ),
)
TRAP_BY_ID = {t.id: t for t in TRAP_SCENES}
TRAP_IDS = {t.trap: t.id for t in TRAP_SCENES}
LAST_TRAP_ID = max(TRAP_BY_ID)


def windows_safe(name: str) -> str:
    for bad, good in WINDOWS_FORBIDDEN.items():
        name = name.replace(bad, good)
    return name

"""The sample Stash: a real GraphQL server over a deterministic synthetic library.

It behaves like Stash (stashapp/stash) where stashplex can tell: schema and validation
errors, filters and paging, timestamps, auth, image routes and the effects of changes.
Used by tests (``tests/plugins/sample_stash.py``), benchmarks and ``stashplex sample-stash``.

Library layout (``scenes`` = N, ``seed`` = S):

- scene ids ``1..N``; scene ``s`` has file ``2s-1`` (primary) and sometimes ``2s``;
- ~8% of generated scenes have an empty title and are unorganized; ~12% have no cover;
  v0.30+ libraries hold some ``YYYY`` and ``YYYY-MM`` dates;
- untouched scenes' ``updated_at`` grows with the id, four scenes per second-stamp;
- root folder ``/data/stash`` (``C:\\Stash\\Library`` with ``os_name="windows"``), one
  folder per studio and year, traps under ``<root>/Sample Traps``.

Hard file names (scene id: trap), present when N >= the id; ``Library.trap_ids()`` maps
the labels to ids and ``Library.traps()`` lists names and notes:

 1 quotes: ``O'Brien's "Big" Night.mp4`` (Windows: ``''`` for ``"``)
 2 accents: ``Café Élodie – Crème Brûlée.mp4`` (NFC, en dash; no cover)
 3 cjk: ``東京の夜 – 花子と雪.mkv``
 4 brackets: ``[Studio X] Scene {Extended} (2020).mp4``
 5 dots: ``the.scene.name.2019.1080p.x264.mp4`` (date ``2019`` on v0.30+)
 6 upper-ext: ``LOUD NAME.MP4`` (date ``2019-07`` on v0.30+; no cover)
 7 spaces: ``Spaced   Out  Title .mp4``
 8 like-percent-underscore: ``100% Real_Deal.mp4`` (empty title, unorganized)
 9 like-decoy: ``100 percent Real-Deal.mp4`` (matches scene 8's path as a LIKE pattern)
10 long-name: a 244-character basename
11, 12 same-basename-a/b: ``duplicate name.mp4`` in ``Dup A`` and ``Dup B``
13 two-files: ``Two Files Primary.mp4`` + ``Extras/second copy marmalade.mkv``
14 regex-case: ``CamelCase Regex Target.mp4``
15, 16, 17 includes: ``ostrich only.mp4``, ``pelican only.mp4``, ``the ostrich pelican phrase.mp4``
18 nfd: ``Café Decomposed.mp4`` written with a combining accent (U+0301)
19 url-chars: ``Q&A #1 + more=yes; 50$.mp4`` (no cover)
20 emoji: ``emoji 🎬 clip.mp4``
21 backslash: ``back\\slash name.mp4`` (Windows: ``back-slash name.mp4``)
22 inner-ext: ``name.with.mp4.inside.mkv``
23 percent-encoded: ``percent%20encoded.mp4``
24, 25 like-underscore (+ decoy): ``underscore_only_name.mp4``, ``underscore-only-name.mp4``
26 typographic-quotes: ``Rock ’n’ Roll.mp4``
27 non-ascii-case: ``Ünïcödé UPPER ÄÖÜ.mp4`` (LIKE folds ASCII case only)
28 punctuation: ``Comma, Semicolon; and Dash -.mp4``
29 deep-folder: ``Sample Traps/a/b/c/d/e/deep file.mp4``
30 mixed-case-dup: ``MiXeD CaSe NaMe.mp4``
"""

from .faults import Faults
from .instance import CONTROL_OPS, SampleStash
from .library import Library, NotFound

__all__ = ["CONTROL_OPS", "Faults", "Library", "NotFound", "SampleStash"]

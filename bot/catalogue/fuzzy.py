"""Product names as clients type them: a homophone from a pinyin input method (季想 for 季享, 稳天利 for
稳添利) or a name cut short (季享90 for 季享90天).

Only Chinese names are matched this way, and only where no exact name was found. A homophone must keep
at least one character of the name in place, so a common word that merely sounds like a name (吉祥 for
季享) is not taken for it; a cut-short name must be at least three characters long, come from a name
of four or more, and not be an ordinary word (养老金 is not 养老基金 typed short).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

_CJK = re.compile(r"[\u4e00-\u9fff]")
_MIN_SOUND = 2  # names this long or longer match by sound
_MIN_CUT = 4  # names this long or longer match with one character dropped


@lru_cache(maxsize=16384)
def syllable(char: str) -> str:
    """A character's toneless pinyin (itself when it is not Chinese); per character, so a name and a
    question are read the same way whatever the context."""
    if not _CJK.match(char):
        return char
    from pypinyin import lazy_pinyin  # ~0.2 s to import: only when a catalogue is first matched

    return lazy_pinyin(char)[0]


def _sound(text: str) -> tuple[str, ...]:
    return tuple(syllable(c) for c in text)


class FuzzyNames:
    """Homophone and cut-short forms of a set of (folded) names."""

    def __init__(self, names: Iterable[str], *, ordinary: Callable[[str], bool] = lambda _: False) -> None:
        self._ordinary = ordinary  # is a text an ordinary word of the language (never a name cut short)
        self._by_sound: dict[tuple[str, ...], list[str]] = {}
        self._by_cut: dict[str, list[str]] = {}
        for name in names:
            if not _CJK.search(name) or len(name) < _MIN_SOUND:
                continue
            self._by_sound.setdefault(_sound(name), []).append(name)
            if len(name) >= _MIN_CUT:
                for i, char in enumerate(name):
                    if _CJK.match(char):  # never a letter or digit: 货币基金A is not 货币基金
                        self._by_cut.setdefault(name[:i] + name[i + 1 :], []).append(name)
        self._sound_lengths = sorted({len(k) for k in self._by_sound}, reverse=True)
        self._cut_lengths = sorted({len(k) for k in self._by_cut}, reverse=True)

    def find(self, folded: str, taken: list[bool]) -> list[tuple[int, int, str]]:
        """(start, end, name) of fuzzy matches in `folded` outside the `taken` positions, longest first,
        non-overlapping."""
        if not self._by_sound:
            return []
        sounds = [syllable(c) for c in folded]
        taken = list(taken)
        out: list[tuple[int, int, str]] = []
        for length in sorted({*self._sound_lengths, *self._cut_lengths}, reverse=True):
            for start in range(len(folded) - length + 1):
                end = start + length
                if any(taken[start:end]):
                    continue
                window = folded[start:end]
                name = self._sounds_like(window, tuple(sounds[start:end])) or self._cut_from(window)
                if name is not None:
                    out.append((start, end, name))
                    taken[start:end] = [True] * length
        return sorted(out)

    def _sounds_like(self, window: str, sound: tuple[str, ...]) -> str | None:
        for name in self._by_sound.get(sound, ()):
            if name != window and any(a == b for a, b in zip(name, window, strict=True)):
                return name
        return None

    def _cut_from(self, window: str) -> str | None:
        if len(window) < 3 or not _CJK.match(window[0]):
            return None
        names = self._by_cut.get(window, ())
        return names[0] if names and not self._ordinary(window) else None

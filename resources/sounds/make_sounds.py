"""Make the station's two feedback tones (run once; the WAVs are committed).

good.wav: a short rising two-note chirp. bad.wav: a low, longer double buzz, clearly different
in pitch AND rhythm, so the two can be told apart without looking (and without colour vision).
Only the standard library: ``python resources/sounds/make_sounds.py``.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 44_100


def tone(freq: float, ms: int, volume: float = 0.5, square: bool = False) -> list[float]:
    n = RATE * ms // 1000
    fade = max(1, RATE * 5 // 1000)  # 5 ms in and out: no clicks
    out = []
    for i in range(n):
        s = math.sin(2 * math.pi * freq * i / RATE)
        if square:
            s = 0.6 * (1.0 if s >= 0 else -1.0) + 0.4 * s
        env = min(1.0, i / fade, (n - i) / fade)
        out.append(volume * env * s)
    return out


def silence(ms: int) -> list[float]:
    return [0.0] * (RATE * ms // 1000)


def write(path: Path, samples: list[float]) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))


def main() -> None:
    here = Path(__file__).resolve().parent
    write(here / "good.wav", tone(1320, 70) + tone(1760, 90))
    write(
        here / "bad.wav",
        tone(220, 160, 0.6, square=True) + silence(60) + tone(196, 220, 0.6, square=True),
    )


if __name__ == "__main__":
    main()

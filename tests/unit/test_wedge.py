"""The wedge detector, fed simulated key timings: scans are read, typing reaches the field."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from app.domain.errors import ConfigError
from app.scanning.wedge import (
    KeyVerdict,
    Outcome,
    Replay,
    ScanRead,
    WedgeDetector,
    WedgeSettings,
)


@dataclass
class Bench:
    """A fake station: what reaches the focused field, what was read as a scan.

    It acts on verdicts as the Qt filter does. With ``timely_timer`` the deadline timer fires
    on time; without it, it never fires until ``settle()`` (a busy event loop).
    """

    settings: WedgeSettings = field(default_factory=WedgeSettings)
    timely_timer: bool = True
    delivered: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)
    detector: WedgeDetector[str] = field(init=False)

    def __post_init__(self) -> None:
        self.detector = WedgeDetector(self.settings)

    def press(self, text: str, key: str | None, t_ms: float) -> KeyVerdict[str]:
        ref = key or text
        if self.timely_timer:
            self.run_timer(until=t_ms)
        verdict = self.detector.key(text, key, t_ms, ref)
        self._apply(verdict.outcomes)
        if not verdict.hold:
            self.delivered.append(ref)
        return verdict

    def type(self, text: str, start_ms: float, gap_ms: float) -> float:
        """Press each character ``gap_ms`` apart; return the time of the last one."""
        t = start_ms
        for char in text:
            self.press(char, None, t)
            t += gap_ms
        return t - gap_ms

    def scan(self, code: str, start_ms: float, terminator: str | None = "enter") -> float:
        """A scanner typing ``code`` 1 ms apart, then ``terminator``; return the last time."""
        t = self.type(code, start_ms, 1.0)
        if terminator is not None:
            t += 1.0
            self.press({"enter": "\r", "tab": "\t"}.get(terminator, ""), terminator, t)
        return t

    def settle(self) -> None:
        self.run_timer(until=math.inf)

    def run_timer(self, until: float) -> None:
        while (deadline := self.detector.deadline()) is not None and deadline <= until:
            self._apply(self.detector.timeout(deadline))

    def _apply(self, outcomes: tuple[Outcome[str], ...]) -> None:
        for outcome in outcomes:
            if isinstance(outcome, ScanRead):
                self.scans.append(outcome.text)
            else:
                self.delivered.extend(outcome.keys)


GTIN = "4006381333931"


@pytest.mark.parametrize("terminator", ["enter", "tab"])
def test_scan_with_terminator_is_read_and_nothing_leaks(terminator: str) -> None:
    bench = Bench()
    bench.scan(GTIN, 0.0, terminator)
    assert bench.scans == [GTIN]
    assert bench.delivered == []
    assert not bench.detector.holding


def test_scan_is_read_on_the_terminator_itself() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings())
    for i, char in enumerate("SO-1042"):
        verdict = detector.key(char, None, float(i), char)
        assert verdict == KeyVerdict(hold=True)
    verdict = detector.key("\r", "enter", 7.0, "enter")
    assert verdict == KeyVerdict(hold=True, outcomes=(ScanRead("SO-1042", tuple("SO-1042")),))
    assert detector.deadline() is None


def test_scan_without_terminator_ends_after_the_end_timeout() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings())
    for i, char in enumerate(GTIN):
        detector.key(char, None, float(i), char)
    last = float(len(GTIN) - 1)
    assert detector.deadline() == last + 60.0
    assert detector.timeout(last + 59.9) == ()
    assert detector.timeout(last + 60.0) == (ScanRead(GTIN, tuple(GTIN)),)
    assert detector.deadline() is None


def test_prefix_and_suffix_are_stripped_and_the_suffix_ends_the_scan() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings(prefix="$", suffix="#"))
    outcomes: list[Outcome[str]] = []
    for i, char in enumerate("$T-0007#"):
        verdict = detector.key(char, None, float(i), char)
        assert verdict.hold
        outcomes.extend(verdict.outcomes)
    assert outcomes == [ScanRead("T-0007", tuple("$T-0007#"))]


def test_enter_after_the_suffix_is_swallowed_with_the_scan() -> None:
    bench = Bench(WedgeSettings(suffix="#"))
    bench.scan("T-0007#", 0.0, "enter")
    assert bench.scans == ["T-0007"]
    assert bench.delivered == []


def test_enter_long_after_a_suffix_scan_reaches_the_field() -> None:
    bench = Bench(WedgeSettings(suffix="#"))
    bench.scan("T-0007#", 0.0, terminator=None)
    bench.press("\r", "enter", 500.0)
    assert bench.scans == ["T-0007"]
    assert bench.delivered == ["enter"]


def test_scan_without_the_optional_prefix_is_still_a_scan() -> None:
    bench = Bench(WedgeSettings(prefix="$"))
    bench.scan(GTIN, 0.0)
    assert bench.scans == [GTIN]


def test_gs_typed_as_ctrl_bracket_stays_in_the_scan() -> None:
    bench = Bench()
    bench.scan("010400638133393110LOT1\x1d21SN9", 0.0)
    assert bench.scans == ["010400638133393110LOT1\x1d21SN9"]


@pytest.mark.parametrize("timely_timer", [True, False])
def test_slow_typing_reaches_the_field_in_order(timely_timer: bool) -> None:
    bench = Bench(timely_timer=timely_timer)
    bench.type("hello", 0.0, 120.0)
    bench.settle()
    assert bench.delivered == list("hello")
    assert bench.scans == []


def test_each_typed_key_is_released_once_the_gap_has_passed() -> None:
    bench = Bench()
    for i, char in enumerate("abc"):
        bench.press(char, None, i * 120.0)
        assert bench.delivered == list("abc"[:i])  # the key just pressed is still held
        bench.run_timer(until=i * 120.0 + 25.0)
        assert bench.delivered == list("abc"[: i + 1])


def test_a_key_held_is_replayed_exactly_at_the_gap() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings())
    detector.key("a", None, 100.0, "a")
    assert detector.deadline() == 125.0
    assert detector.timeout(124.9) == ()
    assert detector.timeout(125.0) == (Replay(("a",)),)


def test_gap_equal_to_max_gap_is_not_a_burst() -> None:
    bench = Bench(timely_timer=False)
    bench.type("abcdef", 0.0, 25.0)
    bench.press("\r", "enter", 150.0)
    assert bench.scans == []
    assert bench.delivered == [*"abcdef", "enter"]


@pytest.mark.parametrize("timely_timer", [True, False])
def test_typing_then_a_scan_right_after(timely_timer: bool) -> None:
    bench = Bench(timely_timer=timely_timer)
    last = bench.type("ab", 0.0, 150.0)
    bench.scan(GTIN, last + 40.0)
    bench.press("c", None, 400.0)
    bench.settle()
    assert bench.scans == [GTIN]
    assert bench.delivered == ["a", "b", "c"]


@pytest.mark.parametrize("terminator", ["enter", None])
@pytest.mark.parametrize("timely_timer", [True, False])
def test_twenty_scans_a_second_are_never_split_or_merged(
    terminator: str | None, timely_timer: bool
) -> None:
    bench = Bench(timely_timer=timely_timer)
    codes = [f"SO-{1000 + n}-{n:02d}X" for n in range(20)]
    for n, code in enumerate(codes):
        bench.scan(code, n * 50.0, terminator)
    bench.settle()
    assert bench.scans == codes
    assert bench.delivered == []


def test_shift_pressed_by_the_scanner_does_not_break_the_scan() -> None:
    bench = Bench()
    t = 0.0
    for char in "SO-1042":
        if char.isupper():
            bench.press("", "shift", t)
            t += 0.5
        bench.press(char, None, t)
        t += 1.0
    bench.press("\r", "enter", t)
    assert bench.scans == ["SO-1042"]
    assert bench.delivered == ["shift", "shift"]  # modifiers pass straight through


@pytest.mark.parametrize("other", ["ctrl+s", "left", "backspace", "escape", "f5"])
def test_other_key_releases_what_is_held_first_then_passes(other: str) -> None:
    bench = Bench(timely_timer=False)
    bench.press("a", None, 0.0)
    verdict = bench.press("", other, 5.0)
    assert verdict == KeyVerdict(hold=False, outcomes=(Replay(("a",)),))
    assert bench.delivered == ["a", other]


def test_other_key_right_after_an_unterminated_scan_ends_it_as_a_scan() -> None:
    bench = Bench()
    last = bench.scan(GTIN, 0.0, terminator=None)
    bench.press("", "down", last + 30.0)
    assert bench.scans == [GTIN]
    assert bench.delivered == ["down"]


def test_enter_after_typing_submits_the_form() -> None:
    bench = Bench()
    last = bench.type("1042", 0.0, 110.0)
    bench.press("\r", "enter", last + 100.0)
    assert bench.delivered == [*"1042", "enter"]
    assert bench.scans == []


def test_enter_right_after_a_single_typed_key_is_not_a_scan() -> None:
    bench = Bench()
    bench.press("x", None, 0.0)
    verdict = bench.press("\r", "enter", 10.0)
    assert verdict == KeyVerdict(hold=False, outcomes=(Replay(("x",)),))
    assert bench.delivered == ["x", "enter"]


def test_two_key_roll_over_is_typing() -> None:
    bench = Bench()
    bench.press("t", None, 0.0)
    bench.press("h", None, 8.0)
    bench.press("e", None, 130.0)
    bench.settle()
    assert bench.delivered == ["t", "h", "e"]
    assert bench.scans == []


def test_three_key_roll_over_is_read_as_a_scan_unless_a_terminator_is_required() -> None:
    # The trade-off of scanners without a suffix: a burst that just stops is a scan.
    loose = Bench()
    loose.type("the", 0.0, 10.0)
    loose.settle()
    assert loose.scans == ["the"]

    strict = Bench(WedgeSettings(require_terminator=True))
    strict.type("the", 0.0, 10.0)
    strict.settle()
    assert (strict.scans, strict.delivered) == ([], list("the"))


def test_a_scan_is_never_read_from_fewer_than_min_length_characters() -> None:
    bench = Bench(WedgeSettings(min_length=4))
    bench.scan("123", 0.0)
    assert bench.scans == []
    assert bench.delivered == ["1", "2", "3", "enter"]


def test_terminator_a_little_late_still_ends_the_scan() -> None:
    bench = Bench()
    last = bench.scan(GTIN, 0.0, terminator=None)
    bench.press("\r", "enter", last + 40.0)  # past max_gap, before end_timeout
    assert bench.scans == [GTIN]
    assert bench.delivered == []


def test_a_key_typed_soon_after_an_unterminated_scan_is_not_part_of_it() -> None:
    bench = Bench(timely_timer=False)
    last = bench.scan(GTIN, 0.0, terminator=None)
    bench.press("q", None, last + 40.0)
    bench.settle()
    assert bench.scans == [GTIN]
    assert bench.delivered == ["q"]


def test_single_character_scan_when_min_length_is_one() -> None:
    bench = Bench(WedgeSettings(min_length=1))
    bench.scan("7", 0.0)
    assert bench.scans == ["7"]
    assert bench.delivered == []


def test_drain_gives_back_everything_held() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings())
    for i, char in enumerate("12345"):
        detector.key(char, None, float(i), char)
    assert detector.drain() == (Replay(tuple("12345")),)
    assert detector.drain() == ()
    assert not detector.holding
    assert detector.deadline() is None


def test_nothing_held_means_no_deadline_and_timeout_does_nothing() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings())
    assert detector.deadline() is None
    assert detector.timeout(1e9) == ()


def test_key_with_no_text_and_no_name_passes() -> None:
    bench = Bench()
    verdict = bench.press("", None, 0.0)
    assert verdict == KeyVerdict(hold=False)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_gap_ms": 0.0}, "timing is impossible"),
        ({"max_gap_ms": 30.0, "end_timeout_ms": 20.0}, "timing is impossible"),
        ({"min_length": 0}, "min_length=0 must be at least 1"),
    ],
)
def test_impossible_settings_are_refused(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        WedgeSettings(**kwargs)  # type: ignore[arg-type]


def test_a_scan_is_read_for_the_keyboard_layout() -> None:
    bench = Bench(WedgeSettings(layout="auto"))
    bench.scan("SO)&àààà&", 0.0)  # a US-set scanner on AZERTY
    bench.scan("Tß0007", 50.0, terminator="tab")  # ... and on QWERTZ
    assert bench.scans == ["SO-100001", "T-0007"]
    assert bench.delivered == []


def test_the_read_says_what_was_typed_when_and_what_ended_it() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings(prefix="$", suffix="#"))
    reads: list[ScanRead[str]] = []
    for i, char in enumerate("$Q)à&)&#"):
        verdict = detector.key(char, None, 100.0 + i, char)
        reads += [o for o in verdict.outcomes if isinstance(o, ScanRead)]
    (read,) = reads
    assert (read.text, read.layout, read.ended_by) == ("A-01-1", "azerty", "suffix")
    assert "".join(read.typed) == "$Q)à&)&#"
    assert read.times == tuple(100.0 + i for i in range(8))
    trace = read.trace()
    assert trace.gaps_ms == (1.0,) * 7
    assert [k.label for k in trace.keys][:2] == ["$", "Q"]


def test_a_terminated_read_has_its_terminator_in_the_trace() -> None:
    detector: WedgeDetector[str] = WedgeDetector(WedgeSettings())
    for i, char in enumerate("T-0007"):
        detector.key(char, None, float(i), char)
    verdict = detector.key("\r", "enter", 7.0, "enter")
    (read,) = verdict.outcomes
    assert isinstance(read, ScanRead)
    trace = read.trace()
    assert (trace.ended_by, trace.keys[-1].label, trace.keys[-1].t_ms) == ("enter", "<ENTER>", 7.0)


def test_an_unknown_layout_is_refused() -> None:
    with pytest.raises(ConfigError, match="layout 'dvorak' is not one of auto, us, azerty"):
        WedgeSettings(layout="dvorak")

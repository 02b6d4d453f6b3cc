"""A supervisor reads exception tasks in words, not as the hub's raw details."""

from __future__ import annotations

from app.services.conflicts import summary_of


def test_picking_tasks_read_as_sentences() -> None:
    assert summary_of(
        "pick_conflict",
        {"qty": 2, "sku": "PK-1", "tote": "T-0009", "why": "the stop at B-01 was picked already"},
    ) == (
        "2 × PK-1 in tote T-0009 were not counted on the pick list: the stop at B-01 was "
        "picked already."
    )
    assert (
        summary_of(
            "short_pick",
            {"short": 3, "sku": "PK-2", "pick_list": "PL-7", "bin": "B-02", "lot": None},
        )
        == "3 × PK-2 short on pick list PL-7: bin B-02 had fewer and no other stock covers them."
    )
    assert (
        summary_of(
            "recount", {"sku": "PK-2", "bin": "B-02", "pick_list": "PL-7", "reported_short": 3}
        )
        == "PK-2 in B-02: the picker of PL-7 found 3 fewer than expected."
    )


def test_a_task_without_the_details_its_words_need_is_still_shown_whole() -> None:
    # An older hub's task, or another kind's recount: every detail, rather than a broken sentence.
    assert summary_of("recount", {"location": "B-03", "counted": 4}) == "counted: 4, location: B-03"
    assert summary_of("pick_conflict", {"qty": 1}) == "qty: 1"

"""The share of stale cached states that decides whether a command on PostgreSQL reads the
stored state before deciding."""

from __future__ import annotations

from kosiflow.services.state_cache import StaleShare


def test_the_share_rises_with_stale_appends_and_falls_again_without() -> None:
    share = StaleShare()
    assert not share.high
    for _ in range(20):
        share.note(stale=True)
        share.note(stale=False)
    assert share.high  # half of them stale, as with two processes taking turns
    for _ in range(30):
        share.note(stale=False)
    assert not share.high


def test_a_few_stale_appends_among_many_are_not_high() -> None:
    share = StaleShare()
    for n in range(200):
        share.note(stale=n % 10 == 0)  # one in ten: threads of one process racing
    assert not share.high

"""The worker's slot accounting, without Redis: what start, release, abandon and refill_plan
do to the free slots, and when a fetch loop blocked on Redis is interrupted."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from pykue.worker.slots import Slots


def _job(job_id, job_type="email"):
    return SimpleNamespace(id=job_id, claim=f"w/{job_id}", type=job_type)


def _slots(limits=None, claim_batch=100):
    interrupts = []
    stopping = threading.Event()
    slots = Slots(limits or {"email": 2, "sms": 1}, claim_batch, stopping, lambda: interrupts.append(1))
    return slots, stopping, interrupts


def test_a_started_job_takes_a_slot_and_its_release_frees_it():
    slots, _, _ = _slots()
    job = _job(1)
    assert slots.start(job, task=None)
    assert slots.free() == {"email": 1, "sms": 1}
    slots.release([job])
    assert slots.free() == {"email": 2, "sms": 1} and slots.idle()


def test_free_slots_are_handed_out_at_most_a_claim_batch_at_a_time():
    slots, _, _ = _slots({"email": 50}, claim_batch=10)
    assert slots.free() == {"email": 10}


def test_nothing_starts_once_stopping_or_while_its_type_is_paused():
    slots, stopping, _ = _slots()
    slots.set_paused({"sms"})
    assert not slots.start(_job(1, "sms"), task=None)
    slots.pause_here("email")
    assert not slots.start(_job(2), task=None)
    assert slots.free() == {}
    slots.resume_here("email")
    stopping.set()
    assert not slots.start(_job(3), task=None)
    assert slots.idle()


def test_an_abandoned_run_frees_its_slot_at_once_and_is_no_longer_live():
    slots, _, _ = _slots()
    job = _job(1)
    slots.start(job, task=None)
    run = slots.abandon(job.id, job.claim)
    assert run is not None and run.job is job
    assert slots.free()["email"] == 2 and slots.live_count() == 0 and slots.holds(job.id, job.claim)
    assert slots.abandon(job.id, job.claim) is None  # once only
    slots.release([job])
    assert slots.free()["email"] == 2 and slots.idle()  # not freed twice


def test_the_live_count_follows_starts_abandons_and_releases():
    """The count the reporter reads per batch is kept, not recounted: every way a run ends
    must keep it right, including a release of a run that is not (or no longer) there."""
    slots, _, _ = _slots({"email": 3})
    first, second, third = _job(1), _job(2), _job(3)
    for job in (first, second, third):
        slots.start(job, task=None)
    assert slots.live_count() == 3
    slots.abandon(first.id, first.claim)
    slots.abandon(first.id, first.claim)  # twice: counted once
    assert slots.live_count() == 2
    slots.release([second])
    assert slots.live_count() == 1
    slots.release([first, second])  # the abandoned run leaves; the released one is gone already
    assert slots.live_count() == 1 and not slots.holds(first.id, first.claim)
    again = _job(3)  # the same job started again under the same claim: another run
    slots.release([again])  # not the run that is there: nothing changes
    assert slots.live_count() == 1
    slots.release([third])
    assert slots.live_count() == 0 and slots.idle()


def test_a_run_started_again_under_an_abandoned_runs_claim_counts_as_live():
    """A claim is worker/attempts/millisecond: after a clock step the same one can come back."""
    slots, _, _ = _slots({"email": 3})
    first = _job(1)
    slots.start(first, task=None)
    slots.abandon(first.id, first.claim)
    again = _job(1)
    slots.start(again, task=None)
    assert slots.live_count() == 1
    slots.release([again])
    assert slots.live_count() == 0
    assert slots.wait_idle(time.monotonic() + 5) == []


def test_a_run_abandoned_while_its_refill_is_claimed_keeps_its_slot_until_released():
    slots, _, _ = _slots()
    job = _job(1)
    slots.start(job, task=None)
    assert slots.refill_plan([job]) == {"email": 1}
    slots.abandon(job.id, job.claim)
    assert slots.free()["email"] == 1  # the refill takes the slot over
    slots.release([job])
    assert slots.free()["email"] == 2


def test_no_refill_is_planned_for_a_paused_type_or_once_stopping():
    slots, stopping, _ = _slots()
    email, sms = _job(1), _job(2, "sms")
    slots.start(email, task=None)
    slots.start(sms, task=None)
    slots.set_paused({"sms"})
    assert slots.refill_plan([email, sms]) == {"email": 1}
    stopping.set()
    assert slots.refill_plan([email]) == {}


def test_a_blocked_fetch_is_interrupted_when_a_slot_of_a_type_it_does_not_wait_on_frees():
    slots, _, interrupts = _slots()
    job = _job(1, "sms")
    slots.start(job, task=None)
    wanted = slots.free()
    assert wanted == {"email": 2}
    assert slots.begin_wait(wanted) and slots.fetch_blocked
    slots.release([job])
    assert interrupts == [1]
    slots.end_wait()
    assert not slots.fetch_blocked


def test_a_fetch_does_not_block_once_the_free_slots_changed():
    slots, stopping, _ = _slots()
    wanted = slots.free()
    slots.start(_job(1, "sms"), task=None)
    assert not slots.begin_wait(wanted)
    stopping.set()
    assert not slots.begin_wait(slots.free())


def test_a_local_pause_interrupts_only_a_fetch_waiting_on_that_type():
    slots, _, interrupts = _slots()
    slots.start(_job(1, "sms"), task=None)
    slots.begin_wait(slots.free())  # waits on email only
    slots.pause_here("sms")
    assert interrupts == []
    slots.pause_here("email")
    assert interrupts == [1]


def test_waiting_for_the_other_runs_of_a_type_ends_when_they_are_released():
    slots, _, _ = _slots()
    mine, other = _job(1), _job(2)
    slots.start(mine, task=None)
    slots.start(other, task=None)
    assert not slots.wait_others(mine, time.monotonic() + 0.05)
    threading.Timer(0.05, slots.release, [[other]]).start()
    assert slots.wait_others(mine, time.monotonic() + 5)
    assert slots.wait_idle(time.monotonic() + 0.05) == [mine]


def _waiter(slots, timeout):
    """A fetch loop's wait on the slots, in a thread; its event is set when the wait returns."""
    returned = threading.Event()

    def wait():
        slots.wait(timeout)
        returned.set()

    threading.Thread(target=wait, daemon=True).start()
    time.sleep(0.05)  # asleep in the wait
    return returned


def test_a_release_whose_slot_a_refill_took_lets_the_fetch_loop_sleep():
    """At concurrency 1 every job's report claims the next: waking the fetch loop at each
    release (to find no slot free) cost a thread wake-up per job."""
    slots, _, _ = _slots({"email": 1})
    done, refill = _job(1), _job(2)
    slots.start(done, task=None)
    assert slots.refill_plan([done]) == {"email": 1}
    slots.start(refill, task=None)
    returned = _waiter(slots, timeout=5)
    slots.release([done])
    assert not returned.wait(0.3)  # nothing freed: still asleep
    slots.release([refill])
    assert returned.wait(2)  # a slot freed: woken at once


def test_the_last_release_wakes_the_fetch_loop_even_when_no_slot_is_free():
    """A burst worker waits for the slots to go idle; a paused type frees no slot."""
    slots, _, _ = _slots({"email": 1})
    job = _job(1)
    slots.start(job, task=None)
    slots.set_paused({"email"})
    returned = _waiter(slots, timeout=5)
    slots.release([job])
    assert returned.wait(2) and slots.idle()


def test_a_run_ending_wakes_a_wait_for_the_others_when_no_slot_is_freed():
    slots, _, _ = _slots({"email": 2})
    mine, other = _job(1), _job(2)
    slots.start(mine, task=None)
    slots.start(other, task=None)
    slots.pause_here("email")  # as ctx.pause(timeout) does: the release frees no slot
    ended = []
    waiting = threading.Thread(target=lambda: ended.append(slots.wait_others(mine, time.monotonic() + 5)))
    waiting.start()
    time.sleep(0.05)
    slots.release([other])
    waiting.join(2)
    assert ended == [True]


def test_a_slot_freed_after_the_fetch_loop_looked_is_not_slept_through():
    """The fetch loop reads the free slots, then sleeps: a release between the two used to
    leave a free slot idle for the whole wait."""
    slots, _, _ = _slots({"email": 1})
    job = _job(1)
    slots.start(job, task=None)
    assert slots.free() == {}  # the fetch loop looks: nothing free
    slots.release([job])  # the reporter frees the slot before the loop sleeps
    started = time.monotonic()
    slots.wait_for_room(5)
    assert time.monotonic() - started < 1


def test_waiting_for_room_sleeps_until_a_slot_frees():
    slots, _, _ = _slots({"email": 1})
    job = _job(1)
    slots.start(job, task=None)
    threading.Timer(0.2, slots.release, [[job]]).start()
    started = time.monotonic()
    slots.wait_for_room(5)
    assert 0.15 < time.monotonic() - started < 2


def test_giving_up_on_a_run_whose_refill_is_claimed_ends_a_wait_for_the_others_at_once():
    """Abandoned, the run is no longer live though its slot stays taken (the refill takes it
    over): a ctx.pause(timeout) or a shutdown waiting for the runs to end must hear of it, not
    find out at its next poll."""
    slots, _, _ = _slots({"email": 2})
    mine, other = _job(1), _job(2)
    slots.start(mine, task=None)
    slots.start(other, task=None)
    assert slots.refill_plan([other]) == {"email": 1}
    ended = []
    waiting = threading.Thread(
        target=lambda: ended.append((slots.wait_others(mine, time.monotonic() + 5), time.monotonic()))
    )
    waiting.start()
    time.sleep(0.03)  # asleep in its wait, whose poll comes 0.1 s after it began
    abandoned_at = time.monotonic()
    assert slots.abandon(other.id, other.claim) is not None
    waiting.join(2)
    assert ended and ended[0][0] is True
    assert ended[0][1] - abandoned_at < 0.05

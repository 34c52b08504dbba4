"""The reporter's inbox: a put rings its doorbell only while the reporter listens, so the
next batch can leave while a reply is out, and a put never writes to a closed descriptor."""

from __future__ import annotations

import os
import select
import threading

from pykue.worker.inbox import Inbox


def readable(fd: int, timeout: float = 0.0) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


def test_a_put_while_listening_rings_and_hush_silences_it():
    inbox: Inbox[int] = Inbox()
    doorbell = inbox.listen()
    assert not readable(doorbell)
    inbox.put(1)
    assert readable(doorbell)
    inbox.hush()
    assert not readable(doorbell)
    assert inbox.get_nowait() == 1
    inbox.close()


def test_a_put_while_not_listening_does_not_ring():
    inbox: Inbox[int] = Inbox()
    doorbell = inbox.listen()
    inbox.stop_listening()
    inbox.put(1)
    assert not readable(doorbell)
    assert not inbox.empty()
    inbox.close()


def test_a_put_from_another_thread_wakes_a_listener_blocked_on_the_doorbell():
    inbox: Inbox[str] = Inbox()
    doorbell = inbox.listen()
    woke = threading.Event()

    def listener():
        if readable(doorbell, timeout=10):
            woke.set()

    thread = threading.Thread(target=listener)
    thread.start()
    inbox.put("outcome")
    thread.join(10)
    assert woke.is_set()
    inbox.close()


def test_after_close_puts_still_queue_and_ring_nothing():
    inbox: Inbox[int] = Inbox()
    doorbell = inbox.listen()
    inbox.close()
    spare_read, spare_write = os.pipe()  # likely reuses the closed descriptors' numbers
    try:
        inbox.put(7)
        assert not readable(spare_read)  # nothing written to a descriptor the inbox no longer owns
        assert inbox.get_nowait() == 7
    finally:
        os.close(spare_read)
        os.close(spare_write)
    assert doorbell >= 0


def test_puts_during_one_wait_ring_once_and_a_hush_rearms_the_bell():
    inbox: Inbox[int] = Inbox()
    doorbell = inbox.listen()
    for n in range(5):
        inbox.put(n)
    assert os.read(doorbell, 4096) == b"\0"  # one system call for the five puts
    inbox.hush()
    assert [inbox.get_nowait() for _ in range(5)] == [0, 1, 2, 3, 4]
    inbox.put(5)
    assert readable(doorbell)  # after the hush, the next put rings again
    inbox.close()


def test_a_bell_left_rung_by_a_closed_doorbell_does_not_silence_the_next_one():
    inbox: Inbox[int] = Inbox()
    inbox.listen()
    inbox.put(1)
    inbox.close()
    doorbell = inbox.listen()
    inbox.put(2)
    assert readable(doorbell)
    inbox.close()


def test_a_hush_between_a_ring_and_its_mark_leaves_the_bell_armed(monkeypatch):
    """The reporter can wake on the byte and hush before the ringing thread runs on: the next
    put must still ring."""
    inbox: Inbox[int] = Inbox()
    doorbell = inbox.listen()
    real_write = os.write

    def write_then_hush(fd: int, data: bytes) -> int:
        written = real_write(fd, data)
        inbox.hush()  # as the woken reporter would, before this thread goes on
        return written

    monkeypatch.setattr(os, "write", write_then_hush)
    inbox.put(1)
    monkeypatch.setattr(os, "write", real_write)
    assert inbox.get_nowait() == 1
    inbox.put(2)
    assert readable(doorbell)
    inbox.close()

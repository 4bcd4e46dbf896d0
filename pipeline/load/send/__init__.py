"""Sending frozen batches: each one's intent, request, retries and outcome, exactly once.

Modules: :mod:`.dispatcher` (claims batches and hands them to the senders),
:mod:`.flights` (a group of requests on the wire from sender threads), :mod:`.sender` (one
batch: intent → request → outcome, retried under the same key), :mod:`.edge` (what one
request tells every sender: 429 pauses, an unreachable server), :mod:`.refusals` (what a 400
or 413 does to a batch), :mod:`.outcome` (what became of a batch), :mod:`.crash_points` (the
points where the crash tests kill or freeze the process).
"""

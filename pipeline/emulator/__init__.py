"""A local emulator of the JAICP Calls API, for tests, the demo and benchmarks.

It shares no code with :mod:`pipeline.api` on purpose: the client and the emulator are both
written from the reference, so a test that passes against the emulator checks the client
against the documentation, not against itself.

Usage::

    from pipeline.emulator import Emulator

    with Emulator(seed=0) as emu:
        camp = emu.create_campaign("104.7056." + "x" * 43, name="Reminders")
        print(emu.base_url)                  # http://127.0.0.1:PORT
        emu.advance(600)                     # ten minutes of simulated dialing

Command line: ``JAICP_TOKEN=... jaicp-pipeline emulator --port 0`` (see pipeline.cli.emulator_cmd).
"""

from pipeline.emulator.app import Emulator

__all__ = ["Emulator"]

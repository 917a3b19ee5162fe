"""The web server's housekeeping tick: once a second instead of ten times a second.

uvicorn (the HTTP server of Streamlit 1.67) wakes its main loop every 0.1 s to see whether it
is asked to stop and, every tenth time, to refresh its ``Date`` header. On this machine class
one wake-up of an asyncio loop costs about 0.25 ms of CPU: 2.5 ms a second, all that an idle
server of the app used, and paid for as long as any page open lasts. :func:`install` makes the
loop wake once a second and do at each wake-up what uvicorn does once a second; the one thing
that waits longer is a server asked to stop (up to a second, instead of a tenth). Installed by
``python -m ui.serve`` before the server starts (the loop is running by the time ``app.py``
runs, so ``streamlit run app.py`` keeps uvicorn's own tick).
"""

from __future__ import annotations

import asyncio

import uvicorn

#: Seconds between two wake-ups of the server's main loop (uvicorn's own: 0.1).
TICK_SECONDS = 1.0
#: uvicorn's ``on_tick(counter)`` does its once-a-second work when ``counter % 10 == 0``.
_UVICORN_TICKS_PER_SECOND = 10
_UVICORN_COUNTER_WRAP = 864000


async def main_loop(server: uvicorn.Server) -> None:
    """uvicorn's ``Server.main_loop`` with a tick of :data:`TICK_SECONDS`."""
    counter = 0
    should_exit = await server.on_tick(counter)
    while not should_exit:
        counter = (counter + _UVICORN_TICKS_PER_SECOND) % _UVICORN_COUNTER_WRAP
        await asyncio.sleep(TICK_SECONDS)
        should_exit = await server.on_tick(counter)


def install() -> bool:
    """Give every uvicorn server of this process the slower tick; whether it changed anything."""
    if uvicorn.Server.main_loop is main_loop:
        return False
    uvicorn.Server.main_loop = main_loop
    return True

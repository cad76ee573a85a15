"""The presence poll of the demande page (issue 15): latency of one heartbeat, sequentially.

Against a running `aplus run` (demo data) and a saved logged-in Playwright storage state:
    .venv/bin/python bench/presence_heartbeat.py BASE_URL DEMANDE_ID STORAGE_STATE.json
Each open demande page sends one of these every presence.POLL_SECONDS (4 s).
"""

import asyncio
import statistics
import sys
import time

from playwright.async_api import async_playwright

BASE, DEMANDE, STATE = sys.argv[1:4]


async def main():
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        ctx = await b.new_context(storage_state=STATE)
        page = await ctx.new_page()
        await page.goto(f"{BASE}/demandes/{DEMANDE}")
        token = await page.evaluate(
            "() => JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken']"
        )
        times = []
        for _ in range(200):
            t = time.perf_counter()
            r = await ctx.request.post(
                f"{BASE}/demandes/{DEMANDE}/presence",
                headers={"x-csrftoken": token, "HX-Request": "true"},
                form={"ecrit": ""},
            )
            assert r.status == 200, r.status
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"presence heartbeat: n=200 median {statistics.median(times):.1f} ms p95 {times[189]:.1f} ms max {times[-1]:.1f} ms"
        )
        await b.close()


asyncio.run(main())

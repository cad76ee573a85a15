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
TOKEN = "() => JSON.parse(document.body.getAttribute('hx-headers'))['x-csrftoken']"


async def main() -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium")
        context = await browser.new_context(storage_state=STATE)
        page = await context.new_page()
        await page.goto(f"{BASE}/demandes/{DEMANDE}")
        headers = {"x-csrftoken": await page.evaluate(TOKEN), "HX-Request": "true"}
        times = []
        for _ in range(200):
            start = time.perf_counter()
            response = await context.request.post(
                f"{BASE}/demandes/{DEMANDE}/presence", headers=headers, form={"ecrit": ""}
            )
            assert response.status == 200, response.status
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        print(
            f"presence heartbeat: n=200 median {statistics.median(times):.1f} ms"
            f" p95 {times[189]:.1f} ms max {times[-1]:.1f} ms"
        )
        await browser.close()


asyncio.run(main())

"""Drives order-service's live page in headless Chromium for the browser tests.

Debian's chromium, chromium-driver and python3-selenium: run with /usr/bin/python3 (the
Debian interpreter that has the selenium package); nothing downloads a browser.

    live_page.py URL REPLIES [WIDTH HEIGHT]

opens URL and then reads one command per line on standard input, appending one JSON reply
per command to the file REPLIES:

    state            what the page shows (connection, counts, rows, queues) and every
                     console message of level SEVERE so far, with its source
    screenshot PATH  saves a PNG of the page
    quit             closes the browser
"""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

url, replies_path = sys.argv[1], sys.argv[2]
width, height = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("1400", "1000")

options = Options()
options.binary_location = "/usr/bin/chromium"
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}"]:
    options.add_argument(argument)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
driver.set_script_timeout(10)

STATE = """
const text = (id) => document.getElementById(id).textContent;
const live = window.mercatoLive;
return {
  url: location.href,
  connection: document.getElementById("connection").dataset.state,
  login_visible: !document.getElementById("login").hidden,
  created: text("count-created"),
  invoiced: text("count-invoiced"),
  paid: text("count-paid"),
  cancelled: text("count-cancelled"),
  p50: text("latency-p50"),
  chart_points: document.getElementById("chart-created").getAttribute("points").split(" ").filter((p) => p).length,
  rows: [...document.querySelectorAll("#orders tbody tr")].map((row) => ({
    id: row.dataset.orderId,
    status: row.children[4].textContent,
    invoice: row.children[5].textContent,
  })),
  queues: [...document.querySelectorAll("#queues tbody tr")].map((row) => ({
    name: row.dataset.queue,
    highlighted: row.className,
    cells: [...row.children].map((cell) => cell.textContent),
  })),
  errors: live ? live.errors : ["window.mercatoLive is missing: live.js did not run"],
};
"""

console = []
replies = open(replies_path, "a")
try:
    driver.get(url)
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        try:
            if command[0] == "state":
                reply = driver.execute_script(STATE)
                console.extend(
                    {"source": entry.get("source", ""), "message": entry.get("message", "")}
                    for entry in driver.get_log("browser")
                    if entry.get("level") == "SEVERE"
                )
                reply["console"] = console
            elif command[0] == "screenshot":
                driver.save_screenshot(command[1])
                reply = {"ok": True}
            elif command[0] == "quit":
                break
            else:
                reply = {"failure": "unknown command " + command[0]}
        except Exception as error:  # reported to the test, which fails with it
            reply = {"failure": repr(error)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
finally:
    driver.quit()

#!/usr/bin/env python3
"""Where an order's time goes between the three services, hop by hop, from their own
timestamps in their databases (the admin role reads all three):

  accepted        orders.created_at: order-service took the request
  relayed         order-service's outbox row claimed by its relay (published_at: the relay's
                  transaction start, before it publishes)
  received        invoice-service's inbox row (its consumer transaction's start)
  invoice relayed invoice-service's outbox row for invoice.created claimed by its relay
  back            order-service's inbox row for that invoice.created
  invoiced        order-service's order.invoiced change

Usage: latency-budget.py PG_PORT SINCE [--json]   (SINCE: a timestamptz, e.g. now() before a run)
Prints a Markdown table of p50/p90/p99/max per hop for the orders accepted since SINCE.
"""
import json
import subprocess
import sys

port, since = sys.argv[1], sys.argv[2]
as_json = "--json" in sys.argv[3:]


def query(database, sql):
    out = subprocess.run(
        ["psql", "-X", "-At", "-F", "\t", "-h", "127.0.0.1", "-p", port, "-U", "mercato", "-d", database, "-c", sql],
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def epoch(column):
    return f"extract(epoch FROM {column})"


since_sql = "'" + since.replace("'", "''") + "'::timestamptz"
orders = {row[0]: {"accepted": float(row[1]), "relayed": float(row[2]) if row[2] else None, "event": row[3]}
          for row in query("orders", f"""
    SELECT o.id, {epoch('o.created_at')}, {epoch('ob.published_at')}, ob.id
    FROM orders o JOIN outbox ob ON ob.event_type = 'order.created' AND ob.body::jsonb -> 'data' ->> 'order_id' = o.id::text
    WHERE o.created_at >= {since_sql}""")}
by_event = {order["event"]: order for order in orders.values()}
for event, at in query("invoices", f"""
    SELECT event_id, {epoch('received_at')} FROM inbox WHERE event_type = 'order.created' AND received_at >= {since_sql}"""):
    if event in by_event:
        by_event[event]["received"] = float(at)
invoice_events = {}
for event, order, at in query("invoices", f"""
    SELECT id, body::jsonb -> 'data' ->> 'order_id', {epoch('published_at')} FROM outbox
    WHERE event_type = 'invoice.created' AND created_at >= {since_sql}"""):
    if order in orders:
        orders[order]["invoice relayed"] = float(at) if at else None
        invoice_events[event] = orders[order]
for event, at in query("orders", f"""
    SELECT event_id, {epoch('received_at')} FROM inbox WHERE event_type = 'invoice.created' AND received_at >= {since_sql}"""):
    if event in invoice_events:
        invoice_events[event]["back"] = float(at)
for order, at in query("orders", f"""
    SELECT order_id::text, {epoch('at')} FROM order_changes WHERE event = 'order.invoiced' AND at >= {since_sql}"""):
    if order in orders:
        orders[order]["invoiced"] = float(at)

steps = ["accepted", "relayed", "received", "invoice relayed", "back", "invoiced"]
hops = [
    ("HTTP accepted → order-service relay claims the outbox row (group commit, relay wake-up)", "accepted", "relayed"),
    ("→ invoice-service consumer transaction starts (publish, route, deliver, batch)", "relayed", "received"),
    ("→ invoice-service relay claims invoice.created (invoice transaction, commit, wake-up)", "received", "invoice relayed"),
    ("→ order-service consumer transaction starts (publish, route, deliver, batch)", "invoice relayed", "back"),
    ("→ order marked invoiced", "back", "invoiced"),
    ("order accepted → order marked invoiced (the whole trip)", "accepted", "invoiced"),
]
complete = [o for o in orders.values() if all(o.get(step) is not None for step in steps)]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


rows = []
for name, start, end in hops:
    ms = [(o[end] - o[start]) * 1000 for o in complete]
    rows.append({"hop": name, "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90), "p99_ms": percentile(ms, 99),
                 "max_ms": max(ms) if ms else float("nan")})
if as_json:
    print(json.dumps({"orders": len(orders), "traced": len(complete), "hops": rows}))
else:
    print(f"Latency budget of {len(complete)} of {len(orders)} orders, by the services' own clocks:")
    print()
    print("| Hop | p50 | p90 | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['hop']} | {row['p50_ms']:.1f} ms | {row['p90_ms']:.1f} ms | {row['p99_ms']:.1f} ms | {row['max_ms']:.1f} ms |")

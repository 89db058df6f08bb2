#!/usr/bin/env python3
"""Writes diurnal.csv: 7 days of 60 s samples of one Redis (used memory, connected clients).

Weekdays follow a daytime curve (quiet nights, a peak early afternoon), weekends are lighter,
every sample carries a little noise, and Wednesday 15:00-15:30 has a spike (a batch job
loading data). Deterministic (fixed seed), so the committed file can be regenerated:
    python3 make-diurnal.py > diurnal.csv
"""
import math
import random

MIB = 1024 * 1024
START = 1767571200  # Monday 2026-01-05 00:00:00 UTC
STEP = 60
DAYS = 7


def main():
    rng = random.Random(5)
    print("timestamp,used_memory_bytes,connected_clients")
    for i in range(DAYS * 86400 // STEP + 1):
        t = START + i * STEP
        day = (t - START) // 86400
        hour = (t - START) % 86400 / 3600
        weekend = day >= 5
        # A smooth bump from 07:00 to 23:00, peaking at 14:00.
        bump = max(0.0, math.sin(math.pi * (hour - 7) / 16)) if 7 <= hour <= 23 else 0.0
        peak_mib = 60 if weekend else 120
        mem_mib = 30 + (peak_mib - 30) * bump ** 1.5
        clients = 8 + (30 if weekend else 60) * bump
        if day == 2 and 15 <= hour < 15.5:
            mem_mib = 300
            clients += 20
        mem_mib *= 1 + rng.uniform(-0.03, 0.03)
        clients = max(1, round(clients * (1 + rng.uniform(-0.05, 0.05))))
        print(f"{t},{int(mem_mib * MIB)},{clients}")


if __name__ == "__main__":
    main()

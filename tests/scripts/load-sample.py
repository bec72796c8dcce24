#!/usr/bin/python3
"""Loads config/sample-clinic.json (the API's therapist objects) into the database.

Used by `make run` so a newcomer has a clinic to match against.  Upserts by
external_ref, so running it again changes nothing.  Usage:
    load-sample.py CONNINFO FILE
"""
import json
import sys

import psycopg2

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def availability_bits(slots):
    """168 characters, bit day*24+hour from the left, as the schema stores it."""
    bits = ["0"] * 168
    for s in slots or []:
        day = DAYS.index(s["day"])
        start = int(s["from"][:2])
        end = int(s["to"][:2]) if s["to"] != "24:00" else 24
        for h in range(start, end):
            bits[day * 24 + h] = "1"
    return "".join(bits)


UPSERT = """
INSERT INTO therapists (external_ref, display_name, gender, languages, modalities, formats,
    sites, populations, identity, payers, self_pay_fee, sliding_scale,
    style_directiveness, style_emotional_intensity, style_past_orientation, style_challenge,
    availability, capacity, accepting_new, active)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::bit(168), %s, %s, %s)
ON CONFLICT (external_ref) DO UPDATE SET
    display_name = EXCLUDED.display_name, gender = EXCLUDED.gender,
    languages = EXCLUDED.languages, modalities = EXCLUDED.modalities,
    formats = EXCLUDED.formats, sites = EXCLUDED.sites, populations = EXCLUDED.populations,
    identity = EXCLUDED.identity, payers = EXCLUDED.payers,
    self_pay_fee = EXCLUDED.self_pay_fee, sliding_scale = EXCLUDED.sliding_scale,
    style_directiveness = EXCLUDED.style_directiveness,
    style_emotional_intensity = EXCLUDED.style_emotional_intensity,
    style_past_orientation = EXCLUDED.style_past_orientation,
    style_challenge = EXCLUDED.style_challenge, availability = EXCLUDED.availability,
    capacity = EXCLUDED.capacity, accepting_new = EXCLUDED.accepting_new,
    active = EXCLUDED.active
RETURNING id
"""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    therapists = json.load(open(sys.argv[2]))
    conn = psycopg2.connect(sys.argv[1])
    with conn, conn.cursor() as cur:
        for t in therapists:
            style = t.get("style", {})
            cur.execute(UPSERT, (
                t["external_ref"], t["display_name"], t.get("gender"),
                t.get("languages", []), t.get("modalities", []), t.get("formats", []),
                t.get("sites", []), t.get("populations", []), t.get("identity", []),
                t.get("payers", []), t.get("self_pay_fee"), t.get("sliding_scale", False),
                style.get("directiveness"), style.get("emotional_intensity"),
                style.get("past_orientation"), style.get("challenge"),
                availability_bits(t.get("availability")), t.get("capacity", 25),
                t.get("accepting_new", True), t.get("active", True)))
            tid = cur.fetchone()[0]
            cur.execute("DELETE FROM therapist_concerns WHERE therapist_id = %s", (tid,))
            for concern, level in t.get("concerns", {}).items():
                cur.execute("INSERT INTO therapist_concerns (therapist_id, concern, level) "
                            "VALUES (%s, %s, %s)", (tid, concern, level))
    conn.close()
    print("sample clinic: %d therapists loaded" % len(therapists))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check tools/eval/qa_questions.json against the Gutenberg texts.

usage: check_qa_questions.py [DATA_DIR] [QUESTIONS_JSON]
Every anchor must occur exactly once (exact bytes) in its book and at least
one answer must occur, case-insensitively, within 400 characters of it.
"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
data_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/gutenberg"
qfile = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "qa_questions.json")
BANNED, NEAR = {"austen-persuasion.txt", "bible-kjv.txt"}, 400

def check_item(it, seen, texts):
    """Returns an error message, or None if the item is good."""
    for k in ("id", "book", "anchor", "question", "answers"):
        if not it.get(k):
            return f"missing or empty '{k}'"
    if it["id"] in seen:
        return "duplicate id"
    seen.add(it["id"])
    book, anchor = it["book"], it["anchor"]
    if book in BANNED:
        return f"book {book} is not allowed"
    path = os.path.join(data_dir, book)
    if not os.path.isfile(path):
        return f"book file {path} not found"
    if book not in texts:
        texts[book] = open(path, "rb").read().decode("latin-1")
    if not 40 <= len(anchor) <= 200:
        return f"anchor length {len(anchor)} not in 40..200"
    n = texts[book].count(anchor)
    if n != 1:
        return f"anchor occurs {n} times in {book}: {anchor!r}"
    pos = texts[book].index(anchor)
    near = texts[book][max(0, pos - NEAR):pos + len(anchor) + NEAR].lower()
    if not any(a.lower() in near for a in it["answers"]):
        return f"no answer of {it['answers']} within {NEAR} chars of the anchor"
    return None

items = json.load(open(qfile, encoding="utf-8"))["items"]
seen, texts, books, errors = set(), {}, {}, []
for i, it in enumerate(items):
    err = check_item(it, seen, texts)
    if err:
        errors.append(f"item {it.get('id', '#%d' % i)}: {err}")
    else:
        books[it["book"]] = books.get(it["book"], 0) + 1
if len(items) < 50:
    errors.append(f"only {len(items)} items (need at least 50)")
if len(books) < 10:
    errors.append(f"only {len(books)} books (need at least 10)")
for e in errors:
    print("check_qa_questions: FAIL: " + e, file=sys.stderr)
if errors:
    sys.exit(f"check_qa_questions: {len(errors)} failure(s) in {qfile}")
print(f"check_qa_questions: OK: {len(items)} items, {len(books)} books, "
      f"at most {max(books.values())} per book")

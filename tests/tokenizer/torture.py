"""Texts that stress a byte-level BPE tokenizer, for tests/tokenizer/test_reference.py.

TEXTS: valid Unicode strings. INVALID: raw bytes that are not valid UTF-8 (the tokenizer
replaces each maximal invalid subpart by U+FFFD; the reference sees
raw.decode("utf-8", errors="replace")). unicode_sweep(): every code point in patterns that
expose its class to the pre-tokenizer regexes and to NFC.
"""
import unicodedata

TEXTS = [
    "",
    " ",
    "a",
    "Hello world",
    "Hello, world! How are you today?",
    # whitespace runs, tabs, newlines, CR LF, trailing and leading spaces
    "  leading and trailing  ",
    "a  b   c    d     e",
    "tab\tseparated\t\tvalues\t",
    "line1\nline2\n\nline4\n\n\n\nline8",
    "windows\r\nline\r\nendings\r\n\r\n",
    "mixed \t \n \r\n  \n\t\t x",
    " \n \n \n",
    "\n",
    "\r",
    "\r\r\n\n\r",
    "     ",
    "\t",
    "x" + " " * 50 + "y",
    " " * 300,
    "\n" * 100,
    "\u00a0nbsp\u00a0\u00a0x \u2003em\u2003space \u3000ideographic\u3000 \u2028ls\u2029ps \u0085nel",
    "\u200bzero\u200bwidth \u200d joiner \ufeffbom",
    "\x1c\x1d\x1e\x1f file separators \x0b\x0c",
    # digits
    "0", "12", "123", "1234", "12345678901234567890",
    "3.14159 2,718 1e-10 0x1F -42 +7 100% $9.99",
    "Phone: +1 (555) 123-4567, year 2024, 1st 2nd 3rd 4th",
    "١٢٣ ٤٥٦ ۷۸۹ १२३ ０１２ ² ³ ½ ⅓ Ⅻ ⑩",
    "a1b2c3 abc123def 123abc",
    # contractions, mixed case
    "I'm you're he's she'd we'll they've it's can't won't",
    "I'M YOU'RE HE'S SHE'D WE'LL THEY'VE IT'S CAN'T",
    "i'M yOu'Re He'S sHe'D wE'lL tHeY'vE",
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D",
    "rock'n'roll o'clock 'quoted' ''double'' '''",
    "\u2019s curly\u2019 apostrophe\u2019ll",
    "'ſ long s 'ſt \u212a kelvin 'K",
    # code
    "def f(x):\n    return x ** 2  # square\n",
    "int main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
    "for (int i = 0; i < n; ++i) { a[i] += b[i] * c; }",
    "    if x == 1:\n        pass\n    elif x >= 2 and y != 3:\n        x //= 2\n",
    "<html><body class=\"x\">&amp; &lt;tag&gt;</body></html>",
    "SELECT * FROM t WHERE a.id = b.id AND c LIKE '%x%';",
    "{\"key\": [1, 2.5, null, true], \"nested\": {\"a\": \"b\"}}",
    "https://example.com/path?q=1&r=two#frag user@example.org",
    "!!!??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}",
    "=>->::<<>>|| && !== === += -= <=> ... ;;",
    # CJK, other scripts
    "中文文本测试，包括标点符号。",
    "日本語のテキストとカタカナとひらがな。",
    "한국어 텍스트 테스트입니다.",
    "Ελληνικά κείμενα και Кириллица текст",
    "العربية نص עברית טקסט",
    "हिन्दी पाठ বাংলা ਪੰਜਾਬੀ தமிழ் ไทย",
    "ꦗꦮ ᚠᚢᚦ 𐌰𐌱 𓀀𓀁 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙𝟚",
    # emoji: ZWJ sequences, skin tones, flags, keycaps, tag sequences
    "😀😃😄 🎉🎊",
    "👨‍👩‍👧‍👦 family 👩🏽‍💻 technologist 🧑🏿‍🤝‍🧑🏻",
    "🇫🇷🇩🇪🇯🇵🇺🇸 flags 🇦",
    "🏴󠁧󠁢󠁥󠁮󠁧󠁿 England 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland",
    "1️⃣ #️⃣ ❤️ ☺︎ text vs emoji presentation",
    "emoji😀inside😀words",
    # combining marks; decomposed vs precomposed
    "caf\u00e9 cafe\u0301",
    "\u00c5ngstr\u00f6m A\u030angstro\u0308m \u212bngstr\u00f6m",
    "\u1e9b\u0323 \u017f\u0323\u0307 \u1e69 s\u0323\u0307 s\u0307\u0323",
    "e\u0301\u0301\u0301 a\u0300\u0316 a\u0316\u0300 q\u0307\u0323",
    "\u0301 leading combining mark",
    "a" + "\u0301\u0316" * 100 + " long run of marks of two classes \u0316\u0301" * 3,
    "\u1100\u1161\u11a8 \uac01 \u1100\u1161 \uac00\u11a8 hangul jamo",
    "\u0958 \u0915\u093c devanagari nukta \u2126 ohm \u212a kelvin",
    "\u0041\u030a\u0301 \u00c5\u0301 \u01fa",
    "\u0b47\u0b3e \u0b4b oriya \u0dd9\u0dcf \u0ddc sinhala",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357",
    # special tokens in text (both models' vocabs use <|...|>)
    "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>",
    "text<|endoftext|>more text<|endoftext|>",
    "<|im_start|><|im_end|><|im_start|>",
    "<|im_sta <|im_start <|im_start|x <|im_end|",
    "<|endoftext|><|endoftext|>  <|endoftext|>\n",
    " <|im_start|> spaced <|im_end|> ",
    "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<repo_name>x<file_sep>y<filename>z",
    "[PAD151665] [PAD151900]",
    "<<|im_start|>> <|<|im_end|>|>",
    # long words and repetition
    "a" * 1000,
    "ab" * 500,
    "supercalifragilisticexpialidocious " * 20,
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "-" * 200 + "=" * 200,
    "😀" * 100,
    "\u0000 nul \u0000\u0000 byte",
    "\ufffd replacement \ufffd\ufffd",
    "\uffff \U0010ffff \U000e0001 \U000f0000 private use \ue000",
]

INVALID = [
    b"\x80",
    b"abc\x80def",
    b"\xff\xfe",
    b"\xc0\x80 overlong nul",
    b"\xc1\xbf",
    b"\xe0\x80\x80 overlong",
    b"\xe0\xa0",
    b"\xed\xa0\x80 surrogate",
    b"\xed\xbf\xbf",
    b"\xf0\x80\x80\x80",
    b"\xf4\x90\x80\x80 above max",
    b"\xf5\x80\x80\x80",
    b"truncated 2: \xc3",
    b"truncated 3: \xe2\x82",
    b"truncated 4: \xf0\x9f\x98",
    b"\xf0\x9f\x98 mid \xe2\x82 mid \xc3 end",
    b"\xc3\x28 \xa0\xa1 \xe2\x28\xa1 \xe2\x82\x28 \xf0\x28\x8c\xbc \xf0\x90\x28\xbc \xf0\x28\x8c\x28",
    b"\xfe\xfe\xff\xff",
    b"ok \xe2\x82\xac euro then \x80\x81\x82 junk then \xf0\x9f\x98\x80 smile",
    b"<|im_start|>\xff<|im_end|>",
    b"\xc3<|endoftext|>\xa9",
]


def unicode_sweep(nfc_patterns):
    """Yields (label, text) chunks covering the code points assigned in Python's Unicode
    database (every one, except Lo and private-use ones: every 7th). Unassigned code points
    are left out: their class differs between Unicode versions (docs/tokenizer.md)."""
    cps = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        cat = unicodedata.category(chr(cp))
        if cat == "Cn":
            continue
        if cat in ("Lo", "Co") and cp % 7:
            continue
        cps.append(cp)
    step = 2048
    for i in range(0, len(cps), step):
        chunk = cps[i:i + step]
        parts = []
        for cp in chunk:
            c = chr(cp)
            # letter/number/space/other class against neighbours of each class, apostrophe
            # contractions, digit isolation, and whitespace-run lookahead
            parts.append("x" + c + " " + c + c + "1" + c + "'s " + c + "\n" + c + "  " + c + ".")
            if nfc_patterns:
                # composition with a preceding letter and a following mark, the decomposed
                # form recomposed, and reordering against marks of other classes
                parts.append("A" + c + "\u0301 " + unicodedata.normalize("NFD", c) + "\u0323"
                             + " e\u0301" + c + "\u0316 ")
        yield "U+%04X..U+%04X" % (chunk[0], chunk[-1]), "".join(parts)

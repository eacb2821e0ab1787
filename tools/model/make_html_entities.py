"""Writes the table that sc.fiji.sd.text.HtmlEntities reads, from Python's own html module:

  /usr/bin/python3 make_html_entities.py [out file, default src/main/resources/sc/fiji/sd/text/html-entities.tsv]

It also writes the test cases src/test/resources/clip/html-unescape-cases.json: texts with what html.unescape gives
once and twice (the CLIP tokenizer's clean-up), which HtmlEntitiesTest checks.

Why: the reference CLIP tokenizer runs html.unescape twice on every prompt; ours must give the same text. The table
is data from the Python standard library (html.entities.html5, html._invalid_charrefs, html._invalid_codepoints;
Python Software Foundation License), which in turn is the WHATWG HTML named character reference list.

Format, one entry a line, tab-separated: a name (as html5 spells it: with its ';', and the legacy names also without)
and its replacement as hexadecimal code points separated by spaces; or '#' and a decimal number for the numeric
references Python replaces specially (empty replacement: the code point is dropped).
"""
import html
import html.entities
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "src", "main", "resources", "sc", "fiji", "sd", "text", "html-entities.tsv")


def hexes(s):
    return " ".join("%x" % ord(c) for c in s)


def main(out):
    lines = ["# HTML character references as Python %d.%d's html.unescape resolves them (tools/model/make_html_entities.py);"
             % sys.version_info[:2],
             "# data from the Python standard library, Python Software Foundation License."]
    for name in sorted(html.entities.html5):
        lines.append(name + "\t" + hexes(html.entities.html5[name]))
    special = dict((n, "") for n in html._invalid_codepoints)
    special.update(html._invalid_charrefs)  # checked first by html.unescape
    for number in sorted(special):
        lines.append("#%d\t%s" % (number, hexes(special[number])))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.abspath(out), len(lines), "lines")


CASES = [
    "&amp;", "fish &amp; chips", "AT&T", "a & b", "&lt;b&gt;bold&lt;/b&gt;", "&#39;", "&#x27;", "&#X27", "&#39",
    "it&#39;s", "&copy", "&copy;", "&COPY;", "&notit;", "&notin;", "&ampx", "&amp", "&ampamp;", "&#0;", "&#00065;",
    "&#128;", "&#x80;", "&#150;", "&#x9D;", "&#13;", "&#xD800;", "&#xDFFF;", "&#x110000;", "&#1114111;",
    "&#99999999999999999999;", "&#x0000000041;", "&#1;", "&#xb;", "&#x7f;", "&#xfdd0;", "&#x1fffe;", "&#x10FFFF;",
    "&unknown;", "& amp;", "&&amp;", "&;", "&#;", "&#x;", "&#xg;", "&eacute;", "&Eacute", "&NotNestedGreaterGreater;",
    "&acE;", "&amp;amp;", "&amp;amp;amp;", "&amp;#39;", "&#38;lt;", "&#65&#66;C", "&#x1F600;", "x&lt;y", "&ltx", "&lt",
    "&gtgt;", "&aacute;&Aacute;", "&nbsp;", "a&nbspb", "&frac12;&frac34", "&abcdefghijklmnopqrstuvwxyzabcdefgh;",
    "&amp\tb", "caf&eacute; &amp; cr&egrave;me", "&#x20AC; 5", "&euro;", "&hearts;&spades", "&zwj;&zwnj;", "&TRADE;",
    "&Tab;x", "&NewLine;", "&lbrack;&rbrack;", "&#8364;", "&#8482;", "&#x2122", "&iexcl&iquest;", "&yuml;&Yuml;",
    "&szlig;", "&Aring;ngstr&ouml;m", "&#2147483648;", "&#x80000000;", "&#-1;", "&#65;&#x42;&#X43;",
]


def cases(out):
    import json
    data = {"notes": ["expected values from Python %d.%d's html.unescape (tools/model/make_html_entities.py)"
                      % sys.version_info[:2]],
            "cases": [{"text": t, "once": html.unescape(t), "twice": html.unescape(html.unescape(t))} for t in CASES]}
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        json.dump(data, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print("wrote", os.path.abspath(out), len(CASES), "cases")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    cases(os.path.join(HERE, "..", "..", "src", "test", "resources", "clip", "html-unescape-cases.json"))

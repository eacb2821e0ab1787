"""CLIP byte-level BPE tokenizer (SD 1.x conventions), written for this project.

Behaviour: NFC normalisation, whitespace collapsed, lower-cased, CLIP's pre-tokenisation rule
(special tokens, contractions, letter runs, single digits, runs of other symbols), byte-level BPE
with an end-of-word marker ``</w>``; start id 49406, end/pad id 49407, padded/truncated to 77.
No ftfy text repair (tokenizer-cases.json lists `ids_without_ftfy` where that matters).
"""
import json
import os
import unicodedata

START_ID = 49406
END_ID = 49407
MAX_LEN = 77
SPECIALS = ("<|startoftext|>", "<|endoftext|>")
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")

DEFAULT_DIR = os.environ.get("CLIP_VOCAB_DIR", "/work/shared/data/clip")


def _byte_to_unicode():
    """The reversible byte -> printable character table used by GPT-2/CLIP byte-level BPE."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    table = {}
    extra = 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _is_letter(ch):
    return unicodedata.category(ch).startswith("L")


def _is_number(ch):
    return unicodedata.category(ch).startswith("N")


def pre_tokenize(text):
    """Splits like CLIP's regex: specials | contractions | \\p{L}+ | \\p{N} | [^\\s\\p{L}\\p{N}]+ ."""
    out = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        hit = None
        for s in SPECIALS:
            if text.startswith(s, i):
                hit = s
                break
        if hit is None:
            for c in CONTRACTIONS:
                if text.startswith(c, i):
                    hit = c
                    break
        if hit is not None:
            out.append(hit)
            i += len(hit)
            continue
        j = i + 1
        if _is_letter(ch):
            while j < n and _is_letter(text[j]):
                j += 1
        elif _is_number(ch):
            pass
        else:
            while j < n and not (text[j].isspace() or _is_letter(text[j]) or _is_number(text[j])):
                j += 1
        out.append(text[i:j])
        i = j
    return out


class ClipTokenizer:
    def __init__(self, vocab_dir=DEFAULT_DIR):
        with open(os.path.join(vocab_dir, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(vocab_dir, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(l.split()) for l in lines[1:] if l.strip() and not l.startswith("#version")]
        self.ranks = {m: r for r, m in enumerate(merges)}
        self.byte_table = _byte_to_unicode()
        self.cache = {s: [self.encoder[s]] for s in SPECIALS}

    def _bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        chars = "".join(self.byte_table[b] for b in token.encode("utf-8"))
        word = list(chars[:-1]) + [chars[-1] + "</w>"]
        while len(word) > 1:
            best, best_rank = None, None
            for k in range(len(word) - 1):
                r = self.ranks.get((word[k], word[k + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = (word[k], word[k + 1]), r
            if best is None:
                break
            merged = []
            k = 0
            while k < len(word):
                if k < len(word) - 1 and (word[k], word[k + 1]) == best:
                    merged.append(word[k] + word[k + 1])
                    k += 2
                else:
                    merged.append(word[k])
                    k += 1
            word = merged
        ids = [self.encoder[w] for w in word]
        self.cache[token] = ids
        return ids

    @staticmethod
    def clean(text):
        text = unicodedata.normalize("NFC", text)
        text = " ".join(text.split())
        return text.lower()

    def encode(self, text):
        """Token ids with start and end tokens, unpadded."""
        ids = [START_ID]
        for tok in pre_tokenize(self.clean(text)):
            ids.extend(self._bpe(tok))
        return ids + [END_ID]

    def __call__(self, text, max_len=MAX_LEN):
        """SD 1.x input_ids: padded with 49407 to 77, or the first 76 ids + 49407."""
        ids = self.encode(text)
        if len(ids) > max_len:
            ids = ids[: max_len - 1] + [END_ID]
        return ids + [END_ID] * (max_len - len(ids))


if __name__ == "__main__":
    import sys
    cases = json.load(open(os.path.join(DEFAULT_DIR, "tokenizer-cases.json")))["cases"]
    tok = ClipTokenizer()
    bad = 0
    for c in cases:
        got = tok.encode(c["prompt"])
        ok = got == c["ids"] or got == c.get("ids_without_ftfy")
        ok = ok and tok(c["prompt"]) == c["input_ids_77"]
        if not ok:
            bad += 1
            print("MISMATCH", repr(c["prompt"]), got, c["ids"])
    print(f"{len(cases) - bad}/{len(cases)} tokenizer cases match")
    sys.exit(1 if bad else 0)

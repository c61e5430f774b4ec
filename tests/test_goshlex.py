"""pxsec splits and joins `portworx.io/misc-args` exactly as the Portworx operator reads it.

The operator (libopenstorage/operator, drivers/storage/portworx/util/util.go `MiscArgs`) splits the
annotation with github.com/google/shlex `Split`; on an error it ignores the whole annotation
(drivers/storage/portworx/deployment.go, the caller of `MiscArgs` in the args builder).
The first table is google/shlex's own test input (shlex_test.go `TestSplit`, `TestTokenizer`);
the others follow its state machine (shlex.go `scanStream`) case by case.
"""
from __future__ import annotations

import shlex as pyshlex

import pytest

from pxsec import goshlex

# google/shlex shlex_test.go: testString and the words TestSplit / TestLexer expect.
GOOGLE_TEST_STRING = ("one two \"three four\" \"five \\\"six\\\"\" seven#eight # nine # ten\n"
                      " eleven 'twelve\\' thirteen=13 fourteen/14")
GOOGLE_WORDS = ["one", "two", "three four", "five \"six\"", "seven#eight", "eleven", "twelve\\",
                "thirteen=13", "fourteen/14"]

SPLITS = [
    (GOOGLE_TEST_STRING, GOOGLE_WORDS),
    ("", []),
    ("  \t\r\n ", []),
    ("-T px-storev2 # -debug", ["-T", "px-storev2"]),             # comment to the end
    ("-a # -debug\n-b", ["-a", "-b"]),                             # ... or to the next LF
    ("#only a comment", []),
    ("a#b", ["a#b"]),                                              # '#' inside a word is a character
    ('"a\\b"', ["ab"]),                                            # backslash dropped inside "..."
    ('"a\\\\b"', ["a\\b"]),
    ('"\\n"', ["n"]),
    ("'a\\b'", ["a\\b"]),                                          # '...' is literal
    ("a\\ b", ["a b"]),                                            # escaped blank joins the word
    ("a\\\nb", ["a\nb"]),                                          # escaped LF is kept (not POSIX)
    ('a"b c"d\'e f\'', ["ab cde f"]),                              # parts of one word join
    ('""', [""]),                                                  # an empty quoted word is a word
    ("x ''", ["x", ""]),
    ("a\x0bb", ["a\x0bb"]),                                        # only space, tab, CR, LF are blanks
    ("-oidc_issuer=https://x/#frag", ["-oidc_issuer=https://x/#frag"]),
]


@pytest.mark.parametrize("text,words", SPLITS)
def test_split_matches_google_shlex(text, words):
    assert goshlex.split(text) == words


def test_google_tokenizer_comment_token():
    """shlex_test.go TestTokenizer: the comment token is ' nine # ten' (without '#', up to the LF)."""
    assert goshlex.tokens(GOOGLE_TEST_STRING)[1] == [" nine # ten"]


@pytest.mark.parametrize("text", ['"open', "'open", "trailing\\", '"esc\\'])
def test_errors_where_google_shlex_errors(text):
    """EOF after an escape or inside quotes is an error: the operator then drops every misc arg."""
    with pytest.raises(goshlex.SplitError):
        goshlex.split(text)


def test_python_shlex_differs_where_the_bug_was():
    """Python's shlex made '#' a word: `-T px-storev2 # -debug` gave px-runc '#' and '-debug'."""
    assert pyshlex.split("-T px-storev2 # -debug") == ["-T", "px-storev2", "#", "-debug"]
    assert goshlex.split("-T px-storev2 # -debug") == ["-T", "px-storev2"]


ROUND_TRIP = GOOGLE_WORDS + ["", "#", "# x", "a'b", 'a"b', "a\\b", "new\nline", "tab\there", "-x=y z", "ünï"]


@pytest.mark.parametrize("word", ROUND_TRIP)
def test_join_round_trips_through_split(word):
    assert goshlex.split(goshlex.join([word, "-k", word])) == [word, "-k", word]


def test_join_keeps_comments_ignored():
    words, comments = goshlex.tokens("-T px-storev2 # -debug\n-a # x")
    again = goshlex.join(words + ["-username_claim", "email"], comments)
    assert goshlex.tokens(again) == (words + ["-username_claim", "email"], comments)
    assert again == "-T px-storev2 -a -username_claim email # -debug\n# x"

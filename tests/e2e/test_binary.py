"""The daemon binary exports none of its own functions: a shared library that
references a name we also define (libkrb5's profile_init, reached through
libpq's GSSAPI on a TCP database connection) must never be bound to ours."""

import subprocess

from conftest import find_binary


def test_the_binary_exports_no_function_of_its_own():
    out = subprocess.run(["nm", "-D", "--defined-only", find_binary()], check=True,
                         capture_output=True, text=True).stdout
    # Versioned names are the C library's data; __asan_*/__ubsan_* the sanitizers'.
    own = [line for line in out.splitlines()
           if line.split()[-1:] and "@" not in line.split()[-1]
           and not line.split()[-1].startswith(("__asan", "__ubsan", "__sanitizer", "__lsan"))]
    assert own == [], own

import sys

from archgym.cli import main

code = main()
# CPython 3.11 under `python -m`: a Ctrl-C that main() handled, but that was raised while an
# exec() or eval() of a string ran (dataclasses and namedtuples are made that way, so a lazy
# import can be the place), leaves the interpreter's "unhandled KeyboardInterrupt" flag set,
# and the process then dies by SIGINT instead of exiting with main()'s code (130).  Any string
# run through exec() clears the flag again.
exec("")
sys.exit(code)

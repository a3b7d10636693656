"""Staff tools behind `edge members`: edit and import the member file, dry-run the rules, push signed
snapshots, send signed door commands and watch which snapshot each door applied. Runs on the staff machine."""

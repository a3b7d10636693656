"""`edge doctor`: checks a node against its config and says, in plain words, what is wrong and how to fix it."""

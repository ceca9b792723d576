"""Kaggle from the command line and from notebooks: `credentials` (signing in, and what Kaggle's refusals
mean), `competition` (submit, wait for the score, list the submissions), `kernel` (the Kaggle notebook:
write, push, status, output); `python -m digit_recognizer.kaggle_api --help` lists the commands."""

"""Step 1, the data: where the Kaggle CSVs are (`locate`), unpacked (`archives`), checked (`checksums`),
and read and validated (`loading`). Fetching them is a command of its own (`download`, `make data`)."""

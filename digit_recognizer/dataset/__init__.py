"""Step 1, the data: where the Kaggle CSVs are (`locate`), unpacked (`archives`), checked (`checksums`),
read and validated (`loading`), and fetched (`download`, `make data`)."""

"""What the pipeline stands on, knowing nothing of digits: files written atomically and JSON records
(`files`), error messages (`messages`), "made from these inputs" (`lineage`), the run lock (`runlock`),
TensorFlow's switches (`runtime`), memory and TensorBoard logs."""

"""Steps 3 to 5, the model: the CNN (`model`, `augment`, `batch_norm`), its search (`tuning`, whose
choice `search_record` reads back), its training (`training`) and its predictions (`prediction`)."""

# Compaction tests (compaction.c): explicit, direct and background
# compaction against a client with real data, deferral, refusals, frames-
# only memory, the unmovable rule; and compaction racing everything else.
# Label: compaction.
za_add_test(NAME compaction SOURCES test_compaction.c LABELS compaction TIMEOUT 300)

# Compaction tests (compaction.c): explicit, direct and background
# compaction against a client with real data, deferral, refusals, frames-
# only memory, the unmovable rule; and compaction racing everything else.
# Label: compaction.
za_add_test(NAME compaction SOURCES test_compaction.c LABELS compaction TIMEOUT 300)
za_add_rseq_run(NAME compaction)
za_add_test(NAME compaction_race SOURCES test_compaction_race.c LABELS compaction TIMEOUT 300)
za_add_rseq_run(NAME compaction_race)

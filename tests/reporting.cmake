# Free page reporting (src/reporting.c, docs/REPORTING.md): the rules, a
# callback that fails, memory offline and unregister against a batch in
# flight, and a stress run with offline/online. Label: reporting.
za_add_test(NAME reporting SOURCES test_reporting.c LABELS reporting TIMEOUT 300)

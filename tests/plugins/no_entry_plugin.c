/* A shared library that is not an adapter plugin: it has no ozghub_adapter_entry. */
int ozghub_test_not_a_plugin(void) { return 0; }

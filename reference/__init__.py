"""The reference data as offices hand it over: the importer of cities, bases, specialties,
batches and plans, and the demo data set loaded through it. Above the rules and the storage:
it writes through the models, never the other way round."""

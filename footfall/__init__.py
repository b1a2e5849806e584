"""footfall: the command line, configuration and the local stack that runs the stages."""

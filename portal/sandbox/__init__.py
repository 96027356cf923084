"""Non-production surfaces: the simulated processor's card tokenizer and the development mailbox."""

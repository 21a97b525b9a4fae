"""The queries behind the pages: one module per page or panel. They read; the policy has already decided what may be read, and the views log what is shown."""

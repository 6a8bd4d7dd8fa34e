"""Product reviews and ratings, their moderation, and "customers also bought"."""

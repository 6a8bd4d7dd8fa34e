"""Product launches: a waiting room (queue) or a lottery (draw) in front of a product."""

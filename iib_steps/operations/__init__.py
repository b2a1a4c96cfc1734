"""One module per IIB request type: each IIB worker algorithm on our catalog and image code."""

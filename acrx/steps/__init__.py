"""Steps: one module (or package) per resource kind; each reads live state and plans Changes."""

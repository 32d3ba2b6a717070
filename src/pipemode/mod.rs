//! Placeholder: this layer is being built (see DESIGN.md).

mod access;
mod registry;

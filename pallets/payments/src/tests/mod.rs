mod access;
mod channels;
mod claims;
mod offchain;
mod properties;

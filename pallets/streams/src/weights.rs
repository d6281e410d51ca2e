use frame_support::weights::Weight;
pub trait WeightInfo {
	fn register_stream() -> Weight;
	fn update_stream() -> Weight;
	fn start_stream() -> Weight;
	fn end_stream() -> Weight;
	fn remove_stream(t: u32) -> Weight;
	fn grant_access() -> Weight;
	fn revoke_access() -> Weight;
	fn buy_access() -> Weight;
	fn force_end_stream() -> Weight;
}
impl WeightInfo for () {
	fn register_stream() -> Weight {
		Weight::zero()
	}
	fn update_stream() -> Weight {
		Weight::zero()
	}
	fn start_stream() -> Weight {
		Weight::zero()
	}
	fn end_stream() -> Weight {
		Weight::zero()
	}
	fn remove_stream(_t: u32) -> Weight {
		Weight::zero()
	}
	fn grant_access() -> Weight {
		Weight::zero()
	}
	fn revoke_access() -> Weight {
		Weight::zero()
	}
	fn buy_access() -> Weight {
		Weight::zero()
	}
	fn force_end_stream() -> Weight {
		Weight::zero()
	}
}
pub struct SubstrateWeight<T>(core::marker::PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_stream() -> Weight {
		Weight::zero()
	}
	fn update_stream() -> Weight {
		Weight::zero()
	}
	fn start_stream() -> Weight {
		Weight::zero()
	}
	fn end_stream() -> Weight {
		Weight::zero()
	}
	fn remove_stream(_t: u32) -> Weight {
		Weight::zero()
	}
	fn grant_access() -> Weight {
		Weight::zero()
	}
	fn revoke_access() -> Weight {
		Weight::zero()
	}
	fn buy_access() -> Weight {
		Weight::zero()
	}
	fn force_end_stream() -> Weight {
		Weight::zero()
	}
}

package sc.fiji.sd.pipeline;

import java.util.List;

/**
 * The extra UNet inputs every pipeline feeds: each factory makes its input only for models that take it. A new UNet
 * input is its {@link UnetInput} class, one entry here, and its test.
 */
final class UnetInputs {

	static final List<UnetInput.Factory> STANDARD = List.of(LcmTimestepCond::create, SdxlTimeIds::create,
		ControlNetResiduals::create);

	private UnetInputs() {}
}

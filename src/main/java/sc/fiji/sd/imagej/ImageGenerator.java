package sc.fiji.sd.imagej;

import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.ProgressListener;

/**
 * What the front ends need from a loaded model: its sizes and a way to run a request.
 * <p>
 * The one seam between the ImageJ front ends and the core pipeline ({@link PipelineGenerator} is the real one); tests
 * of the ImageJ plumbing can substitute a fake.
 */
public interface ImageGenerator {

	/** Width and height the model was trained at (used when the user leaves the size at 0). */
	int nativeSize();

	/** Image sizes must be multiples of this (8 × the UNet's down-sampling). */
	int sizeStep();

	/** Name of the model, for titles and logs. */
	String modelName();

	GenerationResult generate(GenerationRequest request, ProgressListener listener);

	/** The model's folder (the default ControlNet lies beside it); null when there is none. */
	default java.nio.file.Path modelFolder() {
		return null;
	}

	/** Text to image with A1111's hires fix ({@link sc.fiji.sd.pipeline.HiresFix}); without it, the plain run. */
	default GenerationResult generate(GenerationRequest request, sc.fiji.sd.pipeline.HiresFix.Options hires,
		ProgressListener listener)
	{
		if (hires.validate().active()) throw new UnsupportedOperationException("no hires fix in " + modelName());
		return generate(request, listener);
	}
}

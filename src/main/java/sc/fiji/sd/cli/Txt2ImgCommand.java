package sc.fiji.sd.cli;

import java.util.function.Consumer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.HiresFix;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;

@Command(name = "txt2img", description = "Text to image.", sortOptions = false)
class Txt2ImgCommand extends GenerationCommand {

	@Option(names = "--hires-scale", defaultValue = "1", description = "A1111's hires fix: upscale the image by this factor (1 = off, up to 4) and run image to image on it (default: ${DEFAULT-VALUE}).")
	double hiresScale;

	@Option(names = "--hires-steps", defaultValue = "0", description = "Steps of the hires pass; 0 = the same as --steps (default: ${DEFAULT-VALUE}).")
	int hiresSteps;

	@Option(names = "--hires-strength", defaultValue = "0.7", description = "Denoising strength of the hires pass, 0 … 1 (default: ${DEFAULT-VALUE}).")
	double hiresStrength;

	@Option(names = "--hires-upscaler", defaultValue = HiresFix.LANCZOS, description = "Upscaler of the hires pass: Lanczos or Nearest (default: ${DEFAULT-VALUE}).")
	String hiresUpscaler;

	private HiresFix.Options hires;

	@Override
	GenerationRequest.Mode mode() {
		return GenerationRequest.Mode.TEXT_TO_IMAGE;
	}

	@Override
	GenerationRequest.Builder prepare(GenerationRequest.Builder builder) {
		try { // checked before the model loads: a bad value is a usage error
			hires = new HiresFix.Options(hiresScale, hiresSteps, hiresStrength, hiresUpscaler).validate();
		}
		catch (StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}
		return builder;
	}

	@Override
	GenerationResult generate(StableDiffusionPipeline pipeline, GenerationRequest request, ProgressListener progress,
		Consumer<GeneratedImage> sink)
	{
		return HiresFix.generate(pipeline, request, hires, progress, sink);
	}
}

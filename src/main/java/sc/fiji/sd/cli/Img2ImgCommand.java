package sc.fiji.sd.cli;

import java.nio.file.Path;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.pipeline.GenerationRequest;

@Command(name = "img2img", description = "Image to image: redraw an input image guided by the prompt.", sortOptions = false)
class Img2ImgCommand extends GenerationCommand {

	@Option(names = "--image", required = true, paramLabel = "FILE", description = "Input image (PNG, JPEG, …); its size must be a multiple of the model's size step.")
	Path image;

	@Option(names = "--strength", defaultValue = "0.75", description = "How much to change, 0 (keep) to 1 (ignore the input) (default: ${DEFAULT-VALUE}).")
	double strength;

	@Mixin
	TileOptions tiles = new TileOptions();

	@Override
	GenerationRequest.Mode mode() {
		return GenerationRequest.Mode.IMAGE_TO_IMAGE;
	}

	@Override
	GenerationRequest.Builder prepare(GenerationRequest.Builder builder) {
		checkStrength(strength);
		return tiles.apply(builder).initImage(ImageFiles.readRgb(image)).strength(strength);
	}

	static void checkStrength(double strength) {
		if (!(strength >= 0 && strength <= 1)) {
			throw new Main.UsageException("--strength must be between 0 and 1, not " + strength + ".");
		}
	}
}

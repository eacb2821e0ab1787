package sc.fiji.sd.cli;

import java.nio.file.Path;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.image.Outpainting;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;

/**
 * {@code outpaint --image in.png --left 32 --right 32}: the image on a larger canvas, the new area painted, every
 * original pixel kept. The canvas (image plus sides) must be a multiple of the model's size step, like every size
 * the command line takes; the parameters text records the sides as {@code Outpaint: "left 32, right 32, top 0,
 * bottom 0"}.
 */
@Command(name = "outpaint", description = "Outpainting: extend the canvas on chosen sides and paint the new area; the original pixels are kept exactly.", sortOptions = false)
class OutpaintCommand extends GenerationCommand {

	@Option(names = "--image", required = true, paramLabel = "FILE", description = "Input image (PNG, JPEG, …).")
	Path image;

	@Option(names = "--left", defaultValue = "0", paramLabel = "N", description = "Pixels to add on the left (default: ${DEFAULT-VALUE}).")
	int left;

	@Option(names = "--right", defaultValue = "0", paramLabel = "N", description = "Pixels to add on the right (default: ${DEFAULT-VALUE}).")
	int right;

	@Option(names = "--top", defaultValue = "0", paramLabel = "N", description = "Pixels to add at the top (default: ${DEFAULT-VALUE}).")
	int top;

	@Option(names = "--bottom", defaultValue = "0", paramLabel = "N", description = "Pixels to add at the bottom (default: ${DEFAULT-VALUE}).")
	int bottom;

	@Option(names = "--strength", defaultValue = "1.0", description = "How much to change the new area, 0 to 1 (default: ${DEFAULT-VALUE}).")
	double strength;

	@Option(names = "--feather", defaultValue = "4", description = "Soft edge inside the new area, in pixels (default: ${DEFAULT-VALUE}).")
	int feather;

	private Outpainting.Sides sides;

	@Override
	GenerationRequest.Mode mode() {
		return GenerationRequest.Mode.INPAINT;
	}

	@Override
	GenerationRequest.Builder prepare(GenerationRequest.Builder builder) {
		Img2ImgCommand.checkStrength(strength);
		try {
			sides = new Outpainting.Sides(left, right, top, bottom);
		}
		catch (StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage().replace("give left, right, top or bottom",
				"give --left, --right, --top or --bottom").replace("right=32", "--right 32"));
		}
		var rgb = ImageFiles.readRgb(image);
		var mask = Outpainting.mask((int) rgb.dimension(0), (int) rgb.dimension(1), sides);
		return builder.initImage(Outpainting.extend(rgb, sides)).mask(mask).strength(strength).maskFeather(feather);
	}

	@Override
	String parameters(GeneratedImage image) {
		return Outpainting.parameters(image.parameters(), sides);
	}
}

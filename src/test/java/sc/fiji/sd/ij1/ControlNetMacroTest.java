package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ControlNet through the real ImageJ 1.x macro interpreter (headless, ij1-patcher): a selection drawn by the macro
 * ({@code makeOval}) as the control image of Text to Image ({@code control=[selection]}), the preprocessed control
 * image shown as its own window ({@code show_control}), the same recorded line replayed to the same pixels, and bad
 * control options ending the macro with a message.
 */
class ControlNetMacroTest {

	private static HeadlessImageJ ij;
	/** The random-weight fixtures in OnnxStack's split layout: a base with controlnet/model.onnx, and its ControlNet. */
	private static Path base, controlNet;

	@BeforeAll
	static void startImageJWithASmallModel() {
		ij = HeadlessImageJ.shared();
		base = SmallModel.folder("controlnet");
		controlNet = sc.fiji.sd.pipeline.TestModels.controlNet("controlnet-scale").toAbsolutePath();
		String printed = ij.runMacro("run(\"Stable Diffusion Settings...\", \"model=[" + SmallModel.folder()
			+ "] device=cpu threads=0\");");
		assertTrue(printed.contains("Native size"), printed);
	}

	private String textToImage(String extra) {
		return "run(\"Text to Image...\", \"prompt=[a red circle] steps=2 seed=11 width=64 height=64 scheduler=DDIM "
			+ "control=[selection] controlnet=[" + controlNet + "] " + extra + " model=[" + base + "]\");\n";
	}

	/**
	 * Macro lines that run {@code line} again on {@code image} and then with {@code control} replaced by
	 * {@code control=none}, each compared with the result in the macro variable {@code first}: they report "replay
	 * difference" and "control difference" (the largest pixel difference).
	 */
	private static String replayedAndWithoutControl(String line, String image, String control) {
		String compare = """
			imageCalculator("Difference create", first, getImageID());
			getStatistics(area, mean, min, max);
			""";
		return "selectImage(\"" + image + "\");\n" + line + compare + "report(\"replay difference\", max);\n"
			+ "selectImage(\"" + image + "\");\n" + line.replace(control, "control=none") + compare
			+ "report(\"control difference\", max);\n";
	}

	@Test
	void theSelectionIsTheControlImageShownAsItsOwnWindowAndTheLineReplaysToTheSamePixels() {
		ij.runReporting("""
			newImage("specimen", "8-bit black", 64, 64, 1);
			makeOval(12, 20, 36, 24);
			""" + textToImage("show_control") + """
			first = getImageID();
			report("title", getTitle());
			selectImage("Control (none) of the selection on specimen");
			report("control", "" + getWidth() + "x" + getHeight() + " " + bitDepth());
			control = getImageID();
			newImage("expected", "8-bit black", 64, 64, 1);
			makeOval(12, 20, 36, 24);
			run("Set...", "value=255");
			run("Select None");
			run("RGB Color");
			imageCalculator("Difference create", control, "expected");
			getStatistics(area, mean, min, max);
			report("mask difference", max);
			selectImage("specimen");
			report("selection kept", "" + selectionType() + " " + getValue("Mean"));
			""" + textToImage("") + """
			second = getImageID();
			imageCalculator("Difference create", first, second);
			getStatistics(area, mean, min, max);
			report("replay difference", max);
			selectImage(first);
			report("info", getMetadata("Info"));
			""" + textToImage("").replace("control=[selection]", "control=none") + """
			imageCalculator("Difference create", first, getImageID());
			getStatistics(area, mean, min, max);
			report("control difference", max);
			close("*");
			""");
		assertEquals("a red circle (seed 11)", HeadlessImageJ.reported("title"), "the result is the current image after the run");
		assertEquals("64x64 24", HeadlessImageJ.reported("control"));
		assertEquals("0", HeadlessImageJ.reported("mask difference"), "the control image is the selection, white on black");
		assertEquals("1 0", HeadlessImageJ.reported("selection kept"), "the specimen keeps its oval and its pixels");
		assertEquals("0", HeadlessImageJ.reported("replay difference"), "the same line gives the same pixels");
		assertTrue(Double.parseDouble(HeadlessImageJ.reported("control difference")) > 0, "the ControlNet acts on the pixels");
		String info = HeadlessImageJ.reported("info");
		assertTrue(info.contains("ControlNet 0: \"Module: none, Model: controlnet-scale, Weight: 1, Resize Mode: Just "
			+ "Resize") && info.contains("Guidance Start: 0, Guidance End: 1"), "Info shows A1111's ControlNet line: "
			+ info);
	}

	/** Outpaint's control=[selection]: the image's selection moved onto the larger canvas, replayed to the same pixels. */
	@Test
	void outpaintTakesTheSelectionOfItsImageOnTheLargerCanvas() {
		String outpaint = "run(\"Outpaint...\", \"prompt=[a red circle] steps=2 seed=11 scheduler=DDIM left=64 "
			+ "control=[selection] controlnet=[" + controlNet + "] model=[" + base + "] SHOW\");\n";
		ij.runReporting("""
			newImage("specimen", "RGB black", 64, 64, 1);
			makeOval(-16, 20, 40, 24);
			""" + outpaint.replace("SHOW", "show_control") + """
			first = getImageID();
			report("size", "" + getWidth() + "x" + getHeight());
			selectImage("Control (none) of the selection on specimen");
			report("control", "" + getWidth() + "x" + getHeight());
			v = getPixel(52, 32);
			report("in the new area", "" + (v & 0xffffff));
			v = getPixel(100, 32);
			report("outside the oval", "" + (v & 0xffffff));
			selectImage("specimen");
			report("specimen", "" + getWidth() + " " + selectionType());
			""" + replayedAndWithoutControl(outpaint.replace("SHOW", ""), "specimen", "control=[selection]") + """
			close("*");
			""");
		assertEquals("128x64", HeadlessImageJ.reported("size"), "64 + 64 (a multiple of the fixture's size step)");
		assertEquals("128x64", HeadlessImageJ.reported("control"), "the control image covers the canvas");
		assertEquals("16777215", HeadlessImageJ.reported("in the new area"), "the oval moved by left=64: white");
		assertEquals("0", HeadlessImageJ.reported("outside the oval"));
		assertEquals("64 1", HeadlessImageJ.reported("specimen"), "the image keeps its size and oval");
		assertEquals("0", HeadlessImageJ.reported("replay difference"));
		assertTrue(Double.parseDouble(HeadlessImageJ.reported("control difference")) > 0, "the ControlNet acts");
	}

	/** Image to Image in tiles (tile=64) with an open mask as the control image: each tile gets its part; replays. */
	@Test
	void imageToImageInTilesTakesAControlImage() {
		String line = "run(\"Image to Image...\", \"prompt=[a red circle] steps=2 seed=11 strength=0.8 scheduler=DDIM "
			+ "tile=64 control=[mask] control_type=mask controlnet=[" + controlNet + "] model=[" + base + "]\");\n";
		ij.runReporting("""
			newImage("mask", "8-bit black", 128, 64, 1);
			makeOval(40, 10, 50, 40);
			run("Set...", "value=255");
			run("Select None");
			newImage("photo", "RGB black", 128, 64, 1);
			""" + line + """
			first = getImageID();
			report("size", "" + getWidth() + "x" + getHeight());
			report("info", getMetadata("Info"));
			""" + replayedAndWithoutControl(line, "photo", "control=[mask]") + """
			close("*");
			""");
		assertEquals("128x64", HeadlessImageJ.reported("size"));
		String info = HeadlessImageJ.reported("info");
		assertTrue(info.contains("Tiled diffusion: 64, Tile overlap: 16") && info.contains("ControlNet 0: \"Module: mask"),
			info);
		assertEquals("0", HeadlessImageJ.reported("replay difference"), "the same line gives the same pixels");
		assertTrue(Double.parseDouble(HeadlessImageJ.reported("control difference")) > 0, "the ControlNet acts in tiles");
	}

	@Test
	void anOpenImageOfAnotherSizeIsResizedAndTheLogSaysSo() {
		String printed = ij.runReporting("""
			newImage("drawing", "8-bit white", 100, 80, 1);
			setColor(0);
			drawLine(10, 40, 90, 40);
			""" + textToImage("control_type=scribble_xdog").replace("control=[selection]", "control=[drawing]") + """
			report("title", getTitle());
			close("*");
			""");
		assertEquals("a red circle (seed 11)", HeadlessImageJ.reported("title"));
		assertTrue(printed.contains("the control image (\"drawing\") is 100×80; it was resized to 64×64, the size of "
			+ "the output"), printed);
	}

	@Test
	void controlSelectionWithoutASelection() {
		String error = ij.errorOf("newImage(\"plain\", \"8-bit black\", 64, 64, 1);\n" + textToImage(""));
		assertTrue(error.contains("control=[selection]") && error.contains("\"plain\", which has none"), error);
		// Said before the model loads: a base without controlnet/model.onnx would otherwise be the message.
		error = ij.errorOf("newImage(\"plain\", \"8-bit black\", 64, 64, 1);\n" + textToImage("").replace(base
			.toString(), SmallModel.folder().toString()));
		assertTrue(error.contains("\"plain\", which has none"), error);
	}

	@Test
	void anUnknownControlImage() {
		String error = ij.errorOf("newImage(\"blobs\", \"8-bit black\", 64, 64, 1);\n"
			+ "run(\"Text to Image...\", \"prompt=x seed=1 control=[blobz]\");");
		assertTrue(error.contains("No open image is titled \"blobz\"") && error.contains("none, selection, blobs"),
			error);
	}

	@Test
	void anUnknownControlType() {
		String error = ij.errorOf("run(\"Text to Image...\", \"prompt=x seed=1 control_type=depth\");");
		assertTrue(error.contains("Unknown control_type \"depth\"") && error.contains("canny"), error);
	}

	@Test
	void aControlScaleThatIsNotANumber() {
		String error = ij.errorOf("run(\"Text to Image...\", \"prompt=x seed=1 control_scale=strong\");");
		assertTrue(error.contains("control_scale=strong") && error.contains("control_scale=1"), error);
	}
}
